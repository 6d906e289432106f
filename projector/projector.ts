import { Batcher } from "../core/batcher.ts";
import type { Config } from "../core/config.ts";
import { duplicateRedis, type RedisClient } from "../core/redis.ts";
import type { Storage } from "../core/storage.ts";
import { GROUPS, streamNames } from "../core/streams.ts";
import type { Sql } from "../db/client.ts";
import { trimFeeds } from "../db/projections.ts";
import { Consumer } from "./consumer.ts";
import { FanoutLane } from "./fanout-lane.ts";
import { projectorBatchHandlers, projectorHandlers } from "./handlers/index.ts";
import type { HandlerMap } from "./handlers/types.ts";
import { runMaintenance } from "./maintenance.ts";
import { onAvatarForThumbnail, onPostImageForThumbnails } from "./media/make-thumbnails.ts";
import type { ProjectorMetrics } from "./metrics.ts";
import { sweepOutbox } from "./outbox-sweeper.ts";

// A projector instance: the consumer loop of the `projector` group, the fan-out lane for big
// authors, plus its periodic jobs (the outbox sweeper, stream trimming and purges). main.ts runs one; tests run several.

export interface ProjectorDeps {
  sql: Sql;
  redis: RedisClient;
  blocking: RedisClient;
  config: Config;
  metrics: ProjectorMetrics;
  storage?: Storage | null;
  handlers?: HandlerMap;
  /** Handlers of the `media` group; by default thumbnails, when storage is configured. */
  mediaHandlers?: HandlerMap;
  consumerName?: string;
  /** false: do not start the fan-out lane (tests start it by hand). */
  fanoutLane?: boolean;
  log?: (line: Record<string, unknown>) => void;
}

export function createProjector(d: ProjectorDeps) {
  const streams = streamNames(d.config.STREAM_PARTITIONS);
  const log = d.log ?? (() => {});
  let lane: FanoutLane | null = null;
  // Feeds owed a trim after fan-out, trimmed together (a lost one is trimmed by a later delivery).
  const trims = new Batcher<string>((ids) => trimFeeds(d.sql, ids, d.config.FEED_MAX_ITEMS).then(() => {}), {
    flushMs: d.config.FEED_TRIM_FLUSH_MS,
    max: 1_000,
    onError: (e) => log({ level: "error", msg: "feed trim failed; will retry", error: String(e) }),
  });
  const consumer = new Consumer({
    wakeFanoutLane: () => lane?.notify(),
    trims,
    sql: d.sql,
    redis: d.redis,
    blocking: d.blocking,
    config: d.config,
    metrics: d.metrics,
    storage: d.storage ?? null,
    group: GROUPS.projector,
    streams,
    handlers: d.handlers ?? projectorHandlers,
    // Given handlers replace the batches too (a test's failing handler must see every event).
    batchHandlers: d.handlers ? undefined : projectorBatchHandlers,
    consumerName: d.consumerName,
    log,
  });
  // Image work runs in a group of its own, on a connection of its own, so a slow thumbnail never
  // delays fan-out.
  const mediaHandlers =
    d.mediaHandlers ??
    (d.storage ? { PostImageUploaded: onPostImageForThumbnails, AvatarUpdated: onAvatarForThumbnail } : null);
  const media = mediaHandlers
    ? new Consumer({
        sql: d.sql,
        redis: d.redis,
        blocking: duplicateRedis(d.blocking),
        config: d.config,
        metrics: d.metrics,
        storage: d.storage ?? null,
        group: GROUPS.media,
        streams,
        handlers: mediaHandlers,
        consumerName: `${consumer.name}-media`,
        log,
      })
    : null;
  lane = new FanoutLane({
    sql: d.sql,
    redis: d.redis,
    config: d.config,
    metrics: d.metrics,
    group: "fanout",
    trims,
    log,
  });
  const timers: ReturnType<typeof setInterval>[] = [];
  let sweeping = false;
  let maintaining = false;

  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      const n = await sweepOutbox(d, d.config.OUTBOX_GRACE_MS);
      if (n > 0) log({ level: "warn", msg: "outbox sweeper published events the api had not", count: n });
    } catch (e) {
      log({ level: "error", msg: "outbox sweep failed", error: String(e) });
    } finally {
      sweeping = false;
    }
  };
  const maintain = async () => {
    if (maintaining) return;
    maintaining = true;
    try {
      await runMaintenance(d, streams);
    } catch (e) {
      log({ level: "error", msg: "maintenance failed", error: String(e) });
    } finally {
      maintaining = false;
    }
  };

  return {
    consumer,
    media,
    lane,
    streams,
    sweep,
    maintain,
    async start() {
      await consumer.ensureGroups();
      await media?.ensureGroups();
      consumer.start();
      media?.start();
      if (d.fanoutLane !== false) lane.start();
      timers.push(setInterval(sweep, d.config.SWEEP_INTERVAL_MS));
      timers.push(setInterval(maintain, Math.max(d.config.SWEEP_INTERVAL_MS * 10, 5_000)));
    },
    /** Graceful stop: timers off, the entry in hand finished, nothing new read. */
    async stop() {
      for (const t of timers) clearInterval(t);
      await Promise.all([consumer.stop(), media?.stop(), lane.stop()]);
      await trims.flush();
      media?.disconnect();
    },
  };
}
