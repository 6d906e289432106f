import { loadConfigOrExit } from "../core/config.ts";
import { createRedis } from "../core/redis.ts";
import { listDeadLetters, replayDeadLetters } from "./dlq.ts";

// ./dev dlq list | ./dev dlq replay <DLQ_ID|EVENT_ID|--all>

const [cmd, arg] = process.argv.slice(2);
const config = loadConfigOrExit();
const redis = createRedis(config, "feed-dlq-cli");
try {
  if (cmd === "list") {
    const items = await listDeadLetters(redis, 1000);
    if (items.length === 0) console.log("feed:dlq is empty");
    for (const d of items) {
      console.log(
        `${d.dlq_id}  ${d.type}  event=${d.event_id}  from=${d.stream}/${d.group}  deliveries=${d.deliveries}  at=${d.failed_at}\n    error: ${d.error}`,
      );
    }
  } else if (cmd === "replay" && arg) {
    const n = await replayDeadLetters(redis, arg === "--all" ? "all" : arg);
    console.log(n === 0 ? `nothing in feed:dlq matches ${arg}` : `replayed ${n} event(s)`);
    if (n === 0) process.exitCode = 1;
  } else {
    console.error("usage: ./dev dlq list | ./dev dlq replay <DLQ_ID|EVENT_ID|--all>");
    process.exitCode = 2;
  }
} finally {
  redis.disconnect();
}
