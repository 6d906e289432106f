import type { RedisClient } from "../core/redis.ts";
import { publishEvents } from "../core/streams.ts";
import type { Sql } from "../db/client.ts";
import { sweepUnpublished } from "../db/outbox.ts";
import type { ProjectorMetrics } from "./metrics.ts";

// Publishes outbox rows that the api committed but never XADDed (it died in between, or Redis
// was down). Rows younger than the grace period are left to the api, which is about to publish
// them; a row published twice is harmless (handlers are idempotent).

export async function sweepOutbox(
  d: { sql: Sql; redis: RedisClient; metrics: ProjectorMetrics },
  graceMs: number,
  batch = 500,
): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await sweepUnpublished(d.sql, graceMs, batch, async (rows) => {
      await publishEvents(d.redis, rows);
      for (const r of rows) d.metrics.eventsPublished.inc({ type: r.event.type });
    });
    total += n;
    if (n < batch) return total;
  }
}
