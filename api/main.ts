import { existsSync, unlinkSync } from "node:fs";
import { loadConfigOrExit } from "../core/config.ts";
import { createRedis } from "../core/redis.ts";
import { createStorage } from "../core/storage.ts";
import { createSql } from "../db/client.ts";
import { createApp } from "./app.ts";
import { PublishedMarks } from "./commands/run-command.ts";
import type { Lifecycle } from "./deps.ts";
import { ReaderTouches } from "./feed/reader-touches.ts";
import { createMemoryCache } from "./hydrate/memory.ts";
import { createApiMetrics, serveMetrics } from "./metrics.ts";
import { plannedPoolSize } from "./pool-budget.ts";
import { serveApi } from "./server.ts";

// The api process: reads the configuration once, builds the dependencies, serves createApp.
// SIGTERM drains: no new connections, in-flight requests finish (up to SHUTDOWN_TIMEOUT_MS),
// then the pools close.

const config = loadConfigOrExit();
const statementTimeoutMs = config.DATABASE_STATEMENT_TIMEOUT_MS;
const sql = createSql({
  url: config.DATABASE_URL,
  max: config.DATABASE_POOL_SIZE,
  serial: true,
  statementTimeoutMs,
});
// The hot statements (the feed's sources, hydration, single-statement commands), planned once
// per connection.
const plannedSql = createSql({
  url: config.DATABASE_URL,
  max: plannedPoolSize(config.DATABASE_POOL_SIZE),
  genericPlans: true,
  serial: true,
  statementTimeoutMs,
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
const lifecycle: Lifecycle = { draining: false };
// Post bodies and users in memory, dropped when another process announces a change.
// Used only while subscribed to the invalidation channel (it subscribes again after reconnects).
const memory = createMemoryCache(config);
void memory.subscribe(redis);
// Readers' first reads of the day and published outbox rows, written in batches (and flushed
// on SIGTERM).
const touches = new ReaderTouches({ sql, redis, config, log });
const publishedMarks = new PublishedMarks({ sql, config, log });
const deps = {
  sql,
  plannedSql,
  redis,
  config,
  metrics,
  storage,
  lifecycle,
  hooks,
  memory,
  touches,
  publishedMarks,
  log,
};
const app = createApp(deps);
const api = serveApi(app, deps, { port: config.PORT, hostname: config.HOST });
const metricsServer = serveMetrics(metrics.registry, config.METRICS_PORT, config.HOST);
log({
  level: "info",
  msg: `api listening on http://${config.HOST}:${api.server.port}; metrics on :${metricsServer.port}`,
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  const inFlight = api.server.pendingRequests;
  log({ level: "info", msg: `${signal}: draining`, in_flight: inFlight });
  const drained = await api.drain(config.SHUTDOWN_TIMEOUT_MS);
  metricsServer.stop(true);
  if (!drained) {
    log({
      level: "warn",
      msg: `requests still running after SHUTDOWN_TIMEOUT_MS (${config.SHUTDOWN_TIMEOUT_MS} ms) were cut off`,
    });
  }
  // Queries of handlers the deadline already answered for may still be running: a short grace.
  memory.close();
  await Promise.allSettled([touches.flush(), publishedMarks.flush()]);
  await Promise.allSettled([sql.end({ timeout: 2 }), plannedSql.end({ timeout: 2 }), redis.quit()]);
  log({ level: "info", msg: "stopped" });
  process.exit(drained ? 0 : 1);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
