import type postgres from "postgres";
import type { FeedEvent, NewEvent } from "../core/events.ts";
import type { AnySql, Sql } from "./client.ts";

export interface OutboxRow {
  id: string;
  stream: string;
  event: FeedEvent;
}

/**
 * Records an event in the outbox inside the command's transaction. Its id comes from next_id on
 * the actor's shard and is written into the event itself.
 */
export async function insertOutbox(
  sql: AnySql,
  e: { shard: number; stream: string; event: NewEvent },
): Promise<OutboxRow> {
  const [row] = await sql<OutboxRow[]>`
    INSERT INTO outbox (id, stream, type, event)
    SELECT i, ${e.stream}, ${e.event.type}, ${sql.json(e.event)}::jsonb || jsonb_build_object('id', i::text)
    FROM next_id(${e.shard}) AS i
    RETURNING id, stream, event`;
  return row!;
}

/**
 * An event drafted by the api and completed by the statement that writes it (the
 * single-statement commands): its `id` from the outbox row's id, and payload fields only the
 * statement knows (a new post's id, a post's author).
 */
export function completedEvent(
  sql: AnySql,
  draft: NewEvent,
  id: postgres.PendingQuery<postgres.Row[]>,
  payload: postgres.PendingQuery<postgres.Row[]>,
): postgres.PendingQuery<postgres.Row[]> {
  const doc = sql`${sql.json(draft)}::jsonb`;
  return sql`${doc} || jsonb_build_object('id', (${id})::text, 'payload', (${doc} -> 'payload') || ${payload})`;
}

export async function markPublished(sql: AnySql, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql`UPDATE outbox SET published_at = now() WHERE id = ANY(${ids as string[]}::bigint[]) AND published_at IS NULL`;
}

/**
 * The sweeper's batch: rows committed more than graceMs ago and still unpublished, locked so
 * that several sweepers never publish the same row at once. `publish` runs inside the
 * transaction; the rows are marked published only when it succeeds.
 */
export async function sweepUnpublished(
  sql: Sql,
  graceMs: number,
  limit: number,
  publish: (rows: OutboxRow[]) => Promise<void>,
): Promise<number> {
  return sql.begin(async (tx) => {
    const rows = await tx<OutboxRow[]>`
      SELECT id, stream, event FROM outbox
      WHERE published_at IS NULL AND created_at < now() - make_interval(secs => ${graceMs / 1000})
      ORDER BY created_at LIMIT ${limit}
      FOR UPDATE SKIP LOCKED`;
    if (rows.length === 0) return 0;
    await publish(rows);
    await markPublished(
      tx,
      rows.map((r) => r.id),
    );
    return rows.length;
  });
}

/** A stream's events committed since a time, in id order (republishing after a lost group). */
export async function outboxSince(
  sql: AnySql,
  stream: string,
  sinceMs: number,
  afterId: string,
  limit: number,
): Promise<OutboxRow[]> {
  return sql<OutboxRow[]>`
    SELECT id, stream, event FROM outbox
    WHERE stream = ${stream} AND created_at >= to_timestamp(${sinceMs} / 1000.0) AND id > ${afterId}
    ORDER BY id LIMIT ${limit}`;
}

export async function purgePublished(sql: AnySql, olderThanHours: number, limit = 5000): Promise<number> {
  const rows = await sql`
    DELETE FROM outbox WHERE id = ANY(ARRAY(
      SELECT id FROM outbox WHERE published_at IS NOT NULL
        AND created_at < now() - make_interval(hours => ${olderThanHours}) LIMIT ${limit})) RETURNING 1`;
  return rows.length;
}

/** Outbox rows not yet published, of any age (draining waits for 0). */
export async function unpublishedCount(sql: AnySql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`;
  return row?.n ?? 0;
}
