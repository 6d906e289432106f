// ./dev reconcile [--sample N]   — write model vs read model and streams; exit 1 on any drift.
// ./dev rebuild-feeds [--user ID] — rebuild user_feed (and drop the caches) from the write model.
import { parseArgs } from "node:util";
import { loadConfigOrExit } from "../core/config.ts";
import { parseId } from "../core/ids.ts";
import { createRedis } from "../core/redis.ts";
import { keys } from "../core/redis-keys.ts";
import { createSql } from "../db/client.ts";
import { rebuildUserFeed, reconcile, sampleUsers, userIdsAfter } from "../db/reconcile.ts";
import { listDeadLetters } from "./dlq.ts";

const [command, ...rest] = process.argv.slice(2);
const config = loadConfigOrExit();

function usage(message: string): never {
  console.error(`${message}\nusage: ./dev reconcile [--sample N] | ./dev rebuild-feeds [--user ID]`);
  process.exit(2);
}

let values: { sample?: string; user?: string };
try {
  ({ values } = parseArgs({ args: rest, options: { sample: { type: "string" }, user: { type: "string" } } }));
} catch (e) {
  usage((e as Error).message);
}

const sql = createSql({ url: config.DATABASE_URL, max: 2 });
const redis = createRedis(config, "feed-reconcile");
try {
  if (command === "reconcile") {
    const sample = values.sample === undefined ? undefined : Number(values.sample);
    if (sample !== undefined && !(Number.isInteger(sample) && sample > 0))
      usage(`--sample must be a positive whole number, got "${values.sample}"`);
    const report = await reconcile(sql, {
      feedMaxItems: config.FEED_MAX_ITEMS,
      pullThreshold: config.FANOUT_PULL_THRESHOLD,
      activeDays: config.FEED_ACTIVE_DAYS,
      // What the sweeper should have published by now: its period and grace, with a margin.
      unpublishedAfterMs: 2 * (config.SWEEP_INTERVAL_MS + config.OUTBOX_GRACE_MS),
      readers: sample ? await sampleUsers(sql, sample) : undefined,
    });
    const dlq = await listDeadLetters(redis, 1000);
    console.log(
      `lost=${report.lost} duplicated=${report.duplicated} stale_counts=${report.stale_counts} unpublished=${report.unpublished} dlq=${dlq.length}`,
    );
    for (const [what, lines] of Object.entries(report.examples))
      for (const l of lines) console.log(`  ${what}: ${l}`);
    for (const d of dlq.slice(0, 5)) console.log(`  dlq: ${d.type} event=${d.event_id} (${d.error})`);
    if (report.lost + report.duplicated + report.stale_counts + report.unpublished + dlq.length > 0)
      process.exitCode = 1;
  } else if (command === "rebuild-feeds") {
    if (values.user !== undefined && !parseId(values.user))
      usage(`--user must be a user id, got "${values.user}"`);
    const rebuild = async (userId: string) => {
      const n = await rebuildUserFeed(sql, {
        userId,
        max: config.FEED_MAX_ITEMS,
        pullThreshold: config.FANOUT_PULL_THRESHOLD,
      });
      // The caches are rebuilt from the new rows on the next read.
      await redis.del(keys.feedHead(userId), keys.pullFollows(userId));
      return n;
    };
    if (values.user) {
      console.log(`rebuilt the feed of ${values.user}: ${await rebuild(values.user)} rows`);
    } else {
      let users = 0;
      let rows = 0;
      const t0 = performance.now();
      for (let after = "0"; ; ) {
        const ids = await userIdsAfter(sql, after, 1000);
        if (ids.length === 0) break;
        for (const id of ids) rows += await rebuild(id);
        users += ids.length;
        after = ids.at(-1)!;
        process.stderr.write(
          `rebuild  ${users} users, ${rows} rows, ${Math.round(users / ((performance.now() - t0) / 1000))} users/s\n`,
        );
      }
      console.log(`rebuilt ${users} feeds: ${rows} rows`);
    }
  } else usage(`unknown command ${command ?? ""}`);
} finally {
  await sql.end();
  redis.disconnect();
}
