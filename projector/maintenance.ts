import { UPLOAD_EXPIRES_SECONDS, UPLOAD_RETENTION_MS } from "../core/media.ts";
import type { RedisClient } from "../core/redis.ts";
import type { Storage } from "../core/storage.ts";
import { GROUPS } from "../core/streams.ts";
import type { Sql } from "../db/client.ts";
import { sweepAwayReaders } from "../db/feed.ts";
import { purgeExpiredKeys } from "../db/idempotency.ts";
import { purgePublished } from "../db/outbox.ts";
import { purgeProcessedEvents } from "../db/projections.ts";
import { purgeExpiredRefreshTokens } from "../db/refresh-tokens.ts";
import { purgePendingUploads } from "../db/uploads.ts";
import { pruneConsumers, trimStreams } from "./stream-trimmer.ts";

// Periodic upkeep: trim streams below what every group acknowledged (and record the position),
// and purge what has outlived its purpose. Retention is generous: processed_events must outlive
// any redelivery, and the outbox must outlive any republish after a lost consumer group.

export const RETENTION = {
  outboxHours: 48,
  processedEventsHours: 7 * 24,
  idleConsumerMs: 3_600_000,
  /** Direct uploads never attached are removed after a day. */
  uploadsMs: UPLOAD_RETENTION_MS,
} as const;

/** Deletes direct uploads last modified before `before` (never attached to anything). */
export async function sweepUploads(storage: Storage, before: Date): Promise<number> {
  const stale = await storage.listOlderThan("uploads/", before);
  for (const key of stale) await storage.delete(key);
  return stale.length;
}

/**
 * Releases the quota held by uploads whose objects the sweep has removed. A row goes one presign
 * lifetime after the objects' cutoff, since its object may have been written up to then: the
 * quota never forgets an object still stored.
 */
export function releaseSweptUploads(sql: Sql, now: number): Promise<number> {
  return purgePendingUploads(sql, new Date(now - RETENTION.uploadsMs - UPLOAD_EXPIRES_SECONDS * 1000));
}

/** Readers marked away per statement, and statements per maintenance run at most. */
const AWAY_SWEEP = { batch: 1_000, batches: 20 } as const;

/**
 * Takes readers idle longer than `activeDays` out of fan-out (db/feed.ts sweepAwayReaders), in
 * batches, until none is left or the run's share is done (the next run goes on).
 */
export async function sweepAway(sql: Sql, activeDays: number): Promise<number> {
  let total = 0;
  for (let i = 0; i < AWAY_SWEEP.batches; i++) {
    const n = await sweepAwayReaders(sql, activeDays, AWAY_SWEEP.batch);
    total += n;
    if (n < AWAY_SWEEP.batch) break;
  }
  return total;
}

export async function runMaintenance(
  d: {
    sql: Sql;
    redis: RedisClient;
    storage?: Storage | null;
    config: { FEED_ACTIVE_DAYS: number };
  },
  streams: string[],
) {
  const trimmed = await trimStreams(d, streams);
  let consumersPruned = 0;
  for (const group of Object.values(GROUPS))
    consumersPruned += await pruneConsumers(d.redis, streams, group, RETENTION.idleConsumerMs);
  const [keysPurged, outboxPurged, processedPurged, refreshPurged] = await Promise.all([
    purgeExpiredKeys(d.sql),
    purgePublished(d.sql, RETENTION.outboxHours),
    purgeProcessedEvents(d.sql, RETENTION.processedEventsHours),
    purgeExpiredRefreshTokens(d.sql),
  ]);
  const uploadsSwept = d.storage
    ? await sweepUploads(d.storage, new Date(Date.now() - RETENTION.uploadsMs))
    : 0;
  const pendingUploadsReleased = await releaseSweptUploads(d.sql, Date.now());
  const readersAway = await sweepAway(d.sql, d.config.FEED_ACTIVE_DAYS);
  return {
    readersAway,
    trimmed,
    consumersPruned,
    keysPurged,
    outboxPurged,
    processedPurged,
    refreshPurged,
    uploadsSwept,
    pendingUploadsReleased,
  };
}
