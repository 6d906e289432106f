import type { FeedEvent, NewEvent } from "../core/events.ts";
import { shardOf } from "../core/ids.ts";
import type { AnySql, Tx } from "./client.ts";
import { type ClaimOutcome, type KeyClaim, runClaimed } from "./idempotency.ts";
import { completedEvent } from "./outbox.ts";
import { fanoutLockKey } from "./projections.ts";

// Follows and likes: the write model of the social graph. Inserts and deletes report whether
// they changed anything, so a command emits an event only for a real change and counters
// built from events stay exact.

/**
 * A follow, and its active_follows row (sql/0013) unless the follower is away. The follower's
 * feed_readers row is read locked: a sweep marking them away meanwhile is waited for and seen.
 */
export async function insertFollow(sql: AnySql, followerId: string, followeeId: string): Promise<boolean> {
  const rows = await sql`
    WITH f AS (
      INSERT INTO follows (follower_id, followee_id) VALUES (${followerId}, ${followeeId})
      ON CONFLICT DO NOTHING RETURNING follower_id, followee_id
    ), active AS (
      INSERT INTO active_follows (followee_id, follower_id)
      SELECT followee_id, follower_id FROM f
      WHERE NOT coalesce((SELECT away FROM feed_readers WHERE user_id = f.follower_id FOR KEY SHARE), false)
      ON CONFLICT DO NOTHING
    )
    SELECT 1 FROM f`;
  return rows.length === 1;
}

/** Run inside the unfollow's transaction: it first waits for the followee's fan-out batches in
 * flight (see fanOutBatch in projections.ts), so the cleanup after its commit sees their rows. */
export async function deleteFollow(tx: Tx, followerId: string, followeeId: string): Promise<boolean> {
  await tx`SELECT pg_advisory_xact_lock(${fanoutLockKey(followeeId)})`;
  const rows = await tx`
    WITH active AS (
      DELETE FROM active_follows WHERE followee_id = ${followeeId} AND follower_id = ${followerId}
    )
    DELETE FROM follows WHERE follower_id = ${followerId} AND followee_id = ${followeeId} RETURNING 1`;
  return rows.length === 1;
}

export async function insertLike(sql: AnySql, userId: string, postId: string): Promise<boolean> {
  const rows = await sql`
    INSERT INTO likes (user_id, post_id) VALUES (${userId}, ${postId}) ON CONFLICT DO NOTHING RETURNING 1`;
  return rows.length === 1;
}

export interface LikeChange {
  status: number;
  /** The post's author; null when the post does not exist (nothing was written). */
  author_id: string | null;
  /** The event's outbox row, when the like changed; null when it already stood (or did not). */
  event_id: string | null;
  event: FeedEvent | null;
}

/**
 * LikePostCommand or UnlikePostCommand as one statement (runClaimed): the post's author, the like
 * row added or removed, and a PostLiked or PostUnliked outbox row only if it changed, with the
 * author written into the event's payload.
 */
export function changeLikeOnce(
  sql: AnySql,
  claim: KeyClaim | null,
  c: { liked: boolean; userId: string; postId: string; stream: string; event: NewEvent; answer: object },
): Promise<ClaimOutcome<LikeChange>> {
  const change = c.liked
    ? sql`INSERT INTO likes (user_id, post_id) SELECT ${c.userId}, ${c.postId} FROM p, go
          ON CONFLICT DO NOTHING RETURNING 1`
    : sql`DELETE FROM likes WHERE user_id = ${c.userId} AND post_id = ${c.postId}
            AND EXISTS (SELECT 1 FROM p) AND EXISTS (SELECT 1 FROM go) RETURNING 1`;
  return runClaimed(
    sql,
    claim,
    sql`p AS MATERIALIZED (
        SELECT author_id FROM posts WHERE shard = ${shardOf(c.postId)} AND id = ${c.postId}
      ), changed AS (${change}
      ), ev AS (
        INSERT INTO outbox (id, stream, type, event)
        SELECT i, ${c.stream}, ${c.liked ? "PostLiked" : "PostUnliked"},
               ${completedEvent(sql, c.event, sql`i`, sql`jsonb_build_object('author_id', p.author_id::text)`)}
        FROM p, changed, next_id(${shardOf(c.userId)}) AS i
        RETURNING id, event
      ), result AS (
        SELECT ${c.liked ? sql`CASE WHEN EXISTS (SELECT 1 FROM changed) THEN 201 ELSE 200 END` : sql`204`} AS status,
               ${sql.json(c.answer as never)}::jsonb AS body,
               p.author_id::text AS author_id, ev.id::text AS event_id, ev.event
        FROM p LEFT JOIN ev ON true
      )`,
  );
}

/** Which of these (user, post) likes stand now, as "user:post". */
export async function likesStanding(
  sql: AnySql,
  pairs: readonly { userId: string; postId: string }[],
): Promise<Set<string>> {
  if (pairs.length === 0) return new Set();
  const rows = await sql<{ k: string }[]>`
    SELECT l.user_id || ':' || l.post_id AS k
    FROM likes l
    JOIN unnest(${pairs.map((p) => p.userId)}::bigint[], ${pairs.map((p) => p.postId)}::bigint[]) AS q(user_id, post_id)
      ON l.user_id = q.user_id AND l.post_id = q.post_id`;
  return new Set(rows.map((r) => r.k));
}

/** Likes rows per post (checks of the read model's counts; posts nobody liked are absent). */
export async function likeRowCounts(sql: AnySql, postIds: readonly string[]): Promise<Map<string, number>> {
  if (postIds.length === 0) return new Map();
  const rows = await sql<{ post_id: string; n: number }[]>`
    SELECT post_id::text, count(*)::int AS n FROM likes
    WHERE post_id = ANY(${postIds as string[]}::bigint[]) GROUP BY post_id`;
  return new Map(rows.map((r) => [r.post_id, r.n]));
}
