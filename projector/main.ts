import sharp from "sharp";
import { loadConfigOrExit } from "../core/config.ts";
import { AppError, problemResponse } from "../core/errors.ts";
import { createBlockingRedis, createRedis, pingRedis } from "../core/redis.ts";
import { createStorage } from "../core/storage.ts";
import { streamNames } from "../core/streams.ts";
import { createSql, pingSql } from "../db/client.ts";
import { createProjectorMetrics } from "./metrics.ts";
import { createProjector } from "./projector.ts";

// The projector process: consumers, sweeper and upkeep, plus /metrics and /ready on
// PROJECTOR_METRICS_PORT. SIGTERM finishes the entry in hand, then exits.

const config = loadConfigOrExit();
// Thumbnails are made one at a time per consumer; libvips gets one thread, so image work on
// this 2-core box never starves fan-out.
sharp.concurrency(1);
const log = (line: Record<string, unknown>) =>
  console.log(JSON.stringify({ time: new Date().toISOString(), service: "projector", ...line }));
const sql = createSql({ url: config.DATABASE_URL, max: config.DATABASE_POOL_SIZE });
const redis = createRedis(config, "feed-projector");
const blocking = createBlockingRedis(config, "feed-projector-read");
const metrics = createProjectorMetrics({
  redis,
  streams: streamNames(config.STREAM_PARTITIONS),
  defaultMetrics: true,
});
const projector = createProjector({
  sql,
  redis,
  blocking,
  config,
  metrics,
  log,
  storage: createStorage(config),
});

await projector.start();

const server = Bun.serve({
  port: config.PROJECTOR_METRICS_PORT,
  // All interfaces in a container (Prometheus scrapes it there); ./dev keeps it on loopback.
  hostname: config.HOST,
  async fetch(req) {
    const path = new URL(req.url).pathname;
    if (path === "/metrics") {
      return new Response(await metrics.registry.metrics(), {
        headers: { "content-type": metrics.registry.contentType },
      });
    }
    if (path === "/ready" || path === "/health") {
      const [pg, rd] = await Promise.all([pingSql(sql), pingRedis(redis)]);
      const ok = pg && rd && projector.consumer.isRunning;
      return Response.json(
        {
          status: ok ? "ready" : "not ready",
          postgres: pg,
          redis: rd,
          consuming: projector.consumer.isRunning,
        },
        { status: ok ? 200 : 503 },
      );
    }
    return problemResponse(new AppError("not_found", `no route for ${req.method} ${path}`), path);
  },
});
log({
  level: "info",
  msg: `projector ${projector.consumer.name} consuming ${projector.streams.length} streams; metrics on :${server.port}`,
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log({ level: "info", msg: `${signal}: finishing the entry in hand` });
  const hard = setTimeout(() => process.exit(1), config.SHUTDOWN_TIMEOUT_MS);
  await projector.stop();
  server.stop(true);
  blocking.disconnect();
  await Promise.allSettled([sql.end({ timeout: 5 }), redis.quit()]);
  clearTimeout(hard);
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
