import type { AnySql, Tx } from "./client.ts";
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

export async function deleteLike(sql: AnySql, userId: string, postId: string): Promise<boolean> {
  const rows = await sql`DELETE FROM likes WHERE user_id = ${userId} AND post_id = ${postId} RETURNING 1`;
  return rows.length === 1;
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
