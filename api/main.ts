import { existsSync, unlinkSync } from "node:fs";
import { loadConfigOrExit } from "../core/config.ts";
import { createRedis } from "../core/redis.ts";
import { createStorage } from "../core/storage.ts";
import { createSql } from "../db/client.ts";
import { createApp } from "./app.ts";
import { createApiMetrics } from "./metrics.ts";

// The api process: reads the configuration once, builds the dependencies, serves createApp.

const config = loadConfigOrExit();
const sql = createSql({ url: config.DATABASE_URL, max: config.DATABASE_POOL_SIZE });
const hydrationSql = createSql({
  url: config.DATABASE_URL,
  max: Math.max(2, Math.ceil(config.DATABASE_POOL_SIZE / 2)),
  genericPlans: true,
});
const redis = createRedis(config, "feed-api", { failFast: true });
const metrics = createApiMetrics({ defaultMetrics: true });
const log = (line: Record<string, unknown>) => {
  if (line.level === "info" && config.LOG_LEVEL !== "debug" && config.LOG_LEVEL !== "info") return;
  console.log(JSON.stringify({ time: new Date().toISOString(), service: "api", ...line }));
};
const storage = createStorage(config);
// The chaos suite's crash between commit and XADD (config refuses it in production).
const crashFile = config.FAULT_CRASH_AFTER_COMMIT_FILE;
const hooks = crashFile
  ? {
      afterCommit: () => {
        if (!existsSync(crashFile)) return;
        unlinkSync(crashFile);
        log({ level: "warn", msg: "fault hook: SIGKILL between commit and XADD" });
        process.kill(process.pid, "SIGKILL");
      },
    }
  : undefined;
const app = createApp({ sql, hydrationSql, redis, config, metrics, storage, hooks }, { log });

const server = Bun.serve({
  port: config.PORT,
  hostname: "0.0.0.0",
  fetch: app.fetch,
  // Above the app's own limit (which answers problem+json): this one only stops bodies
  // that declare no length and never end.
  maxRequestBodySize: 4 * config.MEDIA_MAX_BYTES,
});
log({ level: "info", msg: `api listening on http://127.0.0.1:${server.port}` });

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log({ level: "info", msg: `${signal}: draining` });
  await server.stop(false);
  await Promise.allSettled([sql.end({ timeout: 5 }), hydrationSql.end({ timeout: 5 }), redis.quit()]);
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
