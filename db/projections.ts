import { shardOf } from "../core/ids.ts";
import type { AnySql, Tx } from "./client.ts";

// Writes of the projector. Each is safe to repeat: inserts ignore duplicates, deletes check the
// write model, and counters are only moved by events that processed_events has not seen.
// Counters move by plain deltas, never clamped: addition commutes, so an unlike applied before
// its like still ends at the right total (readers show max(0, n) in between).

/** Records that a group applied an event; false when it already had (a redelivery). */
export async function markProcessed(sql: AnySql, group: string, eventId: string): Promise<boolean> {
  const rows = await sql`
    INSERT INTO processed_events (group_name, event_id) VALUES (${group}, ${eventId})
    ON CONFLICT DO NOTHING RETURNING 1`;
  return rows.length === 1;
}

export interface FanoutSize {
  /** All followers (user_stats): above FANOUT_PULL_THRESHOLD the author is pulled, not pushed. */
  followers: number;
  /** Followers who are not away (active_follows), counted up to `cap` + 1: the rows a push writes. */
  active: number;
}

/**
 * How big each author's fan-out is: the path (pull, lane, inline) and the batching follow from
 * it. The active count stops at cap + 1, so a big author costs a bounded index-only scan.
 */
export async function fanOutSizes(
  sql: AnySql,
  authorIds: readonly string[],
  cap: number,
): Promise<Map<string, FanoutSize>> {
  const rows = await sql<({ user_id: string } & FanoutSize)[]>`
    SELECT a.id::text AS user_id, coalesce(s.followers_count, 0)::int AS followers,
           (SELECT count(*)::int FROM (SELECT 1 FROM active_follows f WHERE f.followee_id = a.id LIMIT ${cap + 1}) x) AS active
    FROM unnest(${authorIds as string[]}::bigint[]) AS a(id)
    LEFT JOIN user_stats s ON s.user_id = a.id`;
  return new Map(rows.map((r) => [r.user_id, { followers: r.followers, active: r.active }]));
}

/** The advisory lock key that orders an author's fan-out batches against unfollows of them. */
export function fanoutLockKey(authorId: string): string {
  // Namespaced away from other advisory keys by a high tag; bigint ids are < 2^63.
  return (BigInt(authorId) ^ 0x5f0d_0000_0000_0000n).toString();
}

/**
 * One batch of push fan-out: the next `limit` followers after `afterFollower` get the post in
 * their feed. Returns the followers of the batch (inserted or already there), so the caller can
 * push to their cached heads and continue from the last one.
 */
export async function fanOutBatch(
  tx: Tx,
  p: { postId: string; authorId: string; afterFollower: string; limit: number },
): Promise<{ followers: string[]; inserted: number }> {
  // The author's fan-out lock, shared: an unfollow of this author takes it exclusively
  // (lockAuthorForUnfollow), so it waits until this batch's rows are in and its cleanup sees
  // them, and a batch that starts after the unfollow's commit no longer sees the follow. Taken
  // in its own statement, so the batch's snapshot is taken after it is held. (It replaces a
  // FOR KEY SHARE on every follow row of the batch, which wrote a lock into each row's heap
  // tuple and made a 5 000-follower batch three times slower.)
  await tx`SELECT pg_advisory_xact_lock_shared(${fanoutLockKey(p.authorId)})`;
  const rows = await tx<{ follower_id: string; inserted: number }[]>`
    WITH batch AS (
      -- Only followers who are not away (sql/0013_active_follows.sql): the rest get their feed
      -- rebuilt when they return (db/feed.ts rebuildFeed).
      SELECT follower_id FROM active_follows
      WHERE followee_id = ${p.authorId} AND follower_id > ${p.afterFollower}
      ORDER BY follower_id LIMIT ${p.limit}
    ), ins AS (
      INSERT INTO user_feed (user_id, post_id, author_id, created_at)
      SELECT b.follower_id, ${p.postId}, ${p.authorId}, id_time(${p.postId}) FROM batch b
      ON CONFLICT DO NOTHING
      RETURNING 1
    )
    SELECT follower_id::text, (SELECT count(*)::int FROM ins) AS inserted FROM batch ORDER BY follower_id`;
  return { followers: rows.map((r) => r.follower_id), inserted: rows[0]?.inserted ?? 0 };
}

/**
 * Many small authors' posts at once (the projector's PostCreated batch): each post into its
 * author's feed and the feeds of the author's active followers, each event recorded in
 * processed_events and the new ones counted into user_stats, in one transaction. The authors'
 * fan-out locks are taken first, shared, in their own statement, as fanOutBatch does. Returns
 * every feed a post went to (inserted or already there), for the cached heads, and the number
 * of rows inserted into followers' feeds.
 */
export async function fanOutPosts(
  tx: Tx,
  group: string,
  events: readonly { eventId: string; postId: string; authorId: string }[],
): Promise<{ deliveries: { post_id: string; user_id: string }[]; inserted: number }> {
  const locks = [...new Set(events.map((e) => fanoutLockKey(e.authorId)))].sort();
  await tx`SELECT pg_advisory_xact_lock_shared(k) FROM unnest(${locks}::bigint[]) AS k`;
  const rows = await tx<{ post_id: string; user_id: string; inserted: number }[]>`
    WITH ev AS (
      -- One row per event: a read may hold an event twice (published again by the sweeper).
      SELECT DISTINCT ON (event_id) * FROM unnest(${events.map((e) => e.eventId)}::bigint[],
        ${events.map((e) => e.postId)}::bigint[], ${events.map((e) => e.authorId)}::bigint[])
        AS e(event_id, post_id, author_id)
    ), targets AS MATERIALIZED (
      SELECT post_id, author_id, author_id AS user_id FROM ev
      UNION ALL
      -- Only followers who are not away (sql/0013_active_follows.sql), as in fanOutBatch.
      SELECT ev.post_id, ev.author_id, af.follower_id FROM ev JOIN active_follows af ON af.followee_id = ev.author_id
    ), ins AS (
      INSERT INTO user_feed (user_id, post_id, author_id, created_at)
      SELECT user_id, post_id, author_id, id_time(post_id) FROM targets ORDER BY user_id, post_id
      ON CONFLICT DO NOTHING
      RETURNING user_id <> author_id AS pushed
    ), fresh AS (
      INSERT INTO processed_events (group_name, event_id) SELECT ${group}, event_id FROM ev
      ON CONFLICT DO NOTHING RETURNING event_id
    ), counted AS (
      -- In author order, so two batches never wait on each other's rows in a cycle.
      INSERT INTO user_stats AS s (user_id, followers_count, following_count, posts_count)
      SELECT author_id, 0, 0, count(*) FROM ev JOIN fresh USING (event_id) GROUP BY author_id ORDER BY author_id
      ON CONFLICT (user_id) DO UPDATE SET posts_count = s.posts_count + EXCLUDED.posts_count, updated_at = now()
    )
    SELECT post_id::text, user_id::text, (SELECT count(*)::int FROM ins WHERE pushed) AS inserted FROM targets`;
  return {
    deliveries: rows.map(({ post_id, user_id }) => ({ post_id, user_id })),
    inserted: rows[0]?.inserted ?? 0,
  };
}

export interface FanoutJob {
  post_id: string;
  author_id: string;
  after_follower: string;
  created_at: Date;
}

/** Hands a post's fan-out to the lane (a redelivered event finds its job there already). */
export async function enqueueFanout(sql: AnySql, postId: string, authorId: string): Promise<void> {
  await sql`INSERT INTO fanout_jobs (post_id, author_id) VALUES (${postId}, ${authorId}) ON CONFLICT DO NOTHING`;
}

/** The job whose turn it is (least recently advanced), locked; others' are skipped. */
export async function claimFanoutJob(tx: AnySql): Promise<FanoutJob | null> {
  const [job] = await tx<FanoutJob[]>`
    SELECT post_id::text, author_id::text, after_follower::text, created_at FROM fanout_jobs
    ORDER BY updated_at LIMIT 1 FOR UPDATE SKIP LOCKED`;
  return job ?? null;
}

/** Records a batch: the job goes to the back of the line, or away when it is done. */
export async function advanceFanoutJob(
  tx: AnySql,
  postId: string,
  after: string | null,
  rows: number,
): Promise<void> {
  if (after === null) await tx`DELETE FROM fanout_jobs WHERE post_id = ${postId}`;
  else
    await tx`UPDATE fanout_jobs SET after_follower = ${after}, rows = rows + ${rows}, updated_at = clock_timestamp()
             WHERE post_id = ${postId}`;
}

export async function fanoutJobCount(sql: AnySql): Promise<number> {
  const [r] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM fanout_jobs`;
  return r!.n;
}

/** The author sees their own posts in their feed. */
export async function insertOwnFeedItem(sql: AnySql, postId: string, authorId: string): Promise<void> {
  await sql`
    INSERT INTO user_feed (user_id, post_id, author_id, created_at)
    VALUES (${authorId}, ${postId}, ${authorId}, id_time(${postId})) ON CONFLICT DO NOTHING`;
}

/**
 * Keeps the newest `max` items of each given user's feed, and records how far back each feed
 * was cut (feed_trims, sql/0009_feed_trims.sql) in the same statement.
 */
export async function trimFeeds(sql: AnySql, userIds: readonly string[], max: number): Promise<number> {
  if (userIds.length === 0) return 0;
  const [r] = await sql<{ n: number }[]>`
    WITH cut AS (
      DELETE FROM user_feed f USING (
        SELECT u.id AS user_id, c.created_at, c.post_id
        FROM unnest(${userIds as string[]}::bigint[]) AS u(id)
        CROSS JOIN LATERAL (
          SELECT created_at, post_id FROM user_feed WHERE user_id = u.id
          ORDER BY created_at DESC, post_id DESC OFFSET ${max - 1} LIMIT 1) c
      ) edge
      WHERE f.user_id = edge.user_id AND (f.created_at, f.post_id) < (edge.created_at, edge.post_id)
      RETURNING f.user_id, f.created_at
    ), marked AS (
      INSERT INTO feed_trims (user_id, trimmed_through)
      SELECT user_id, max(created_at) FROM cut GROUP BY user_id
      ON CONFLICT (user_id) DO UPDATE
        SET trimmed_through = GREATEST(feed_trims.trimmed_through, EXCLUDED.trimmed_through)
    )
    SELECT count(*)::int AS n FROM cut`;
  return r!.n;
}

/** Follow: the followee's newest posts join the follower's feed, if the follow still stands. */
export async function backfillFollow(
  sql: AnySql,
  followerId: string,
  followeeId: string,
  limit: number,
): Promise<number> {
  // The follow row is locked (KEY SHARE) for the rest of the transaction: an unfollow's delete
  // waits for the backfill to commit, so the unfollow's cleanup sees and removes these rows.
  const rows = await sql`
    WITH f AS (
      SELECT 1 FROM follows WHERE follower_id = ${followerId} AND followee_id = ${followeeId} FOR KEY SHARE
    )
    INSERT INTO user_feed (user_id, post_id, author_id, created_at)
    SELECT ${followerId}, p.id, p.author_id, p.created_at FROM posts p
    WHERE p.shard = ${shardOf(followeeId)} AND p.author_id = ${followeeId} AND EXISTS (SELECT 1 FROM f)
    ORDER BY p.created_at DESC, p.id DESC LIMIT ${limit}
    ON CONFLICT DO NOTHING RETURNING 1`;
  return rows.length;
}

/**
 * Unfollow: one delete of the author's rows from the reader's feed, unless the user follows the
 * author again. It walks the reader's rows by the primary key, which includes author_id
 * (sql/0014 dropped the index on (user_id, author_id) that every fan-out row paid for).
 */
export async function removeAuthorFromFeed(
  sql: AnySql,
  followerId: string,
  followeeId: string,
): Promise<number> {
  const rows = await sql`
    DELETE FROM user_feed
    WHERE user_id = ${followerId} AND author_id = ${followeeId}
      AND NOT EXISTS (SELECT 1 FROM follows WHERE follower_id = ${followerId} AND followee_id = ${followeeId})
    RETURNING 1`;
  return rows.length;
}

export async function bumpUserStats(
  sql: AnySql,
  userId: string,
  d: { followers?: number; following?: number; posts?: number },
): Promise<void> {
  await sql`
    INSERT INTO user_stats AS s (user_id, followers_count, following_count, posts_count)
    VALUES (${userId}, ${d.followers ?? 0}, ${d.following ?? 0}, ${d.posts ?? 0})
    ON CONFLICT (user_id) DO UPDATE SET
      followers_count = s.followers_count + ${d.followers ?? 0},
      following_count = s.following_count + ${d.following ?? 0},
      posts_count     = s.posts_count + ${d.posts ?? 0},
      updated_at = now()`;
}

/**
 * Like and unlike events in one statement: each event recorded in processed_events, and the
 * deltas of those not seen before summed per post into post_stats. Returns every post's count
 * after it (those whose events were all redeliveries too).
 */
export async function applyLikeDeltas(
  sql: AnySql,
  group: string,
  events: readonly { eventId: string; postId: string; delta: number }[],
): Promise<{ post_id: string; like_count: number }[]> {
  return sql<{ post_id: string; like_count: number }[]>`
    WITH ev AS (
      -- One row per event: a read may hold an event twice (published again by the sweeper), and
      -- both copies would join its one processed_events row below.
      SELECT DISTINCT ON (event_id) * FROM unnest(${events.map((e) => e.eventId)}::bigint[], ${events.map((e) => shardOf(e.postId))}::int[],
                           ${events.map((e) => e.postId)}::bigint[], ${events.map((e) => e.delta)}::int[])
        AS e(event_id, shard, post_id, delta)
    ), fresh AS (
      INSERT INTO processed_events (group_name, event_id) SELECT ${group}, event_id FROM ev
      ON CONFLICT DO NOTHING RETURNING event_id
    ), sums AS (
      SELECT shard, post_id, sum(delta)::int AS d FROM ev JOIN fresh USING (event_id) GROUP BY shard, post_id
    ), up AS (
      INSERT INTO post_stats AS s (shard, post_id, like_count, post_created_at)
      SELECT shard, post_id, d, id_time(post_id) FROM sums ORDER BY shard, post_id
      ON CONFLICT (shard, post_id) DO UPDATE SET like_count = s.like_count + EXCLUDED.like_count, updated_at = now()
      RETURNING post_id, like_count
    )
    SELECT k.post_id::text, coalesce(up.like_count, s.like_count, 0)::int AS like_count
    FROM (SELECT DISTINCT shard, post_id FROM ev) k
    LEFT JOIN up ON up.post_id = k.post_id
    LEFT JOIN post_stats s ON s.shard = k.shard AND s.post_id = k.post_id`;
}

export async function saveStreamOffset(
  sql: AnySql,
  group: string,
  stream: string,
  ackedId: string,
): Promise<void> {
  await sql`
    INSERT INTO stream_offsets (group_name, stream, acked_id) VALUES (${group}, ${stream}, ${ackedId})
    ON CONFLICT (group_name, stream) DO UPDATE SET acked_id = EXCLUDED.acked_id, updated_at = now()`;
}

export async function loadStreamOffset(
  sql: AnySql,
  group: string,
  stream: string,
): Promise<string | undefined> {
  const [row] = await sql<{ acked_id: string }[]>`
    SELECT acked_id FROM stream_offsets WHERE group_name = ${group} AND stream = ${stream}`;
  return row?.acked_id;
}

export async function purgeProcessedEvents(
  sql: AnySql,
  olderThanHours: number,
  limit = 10_000,
): Promise<number> {
  const rows = await sql`
    DELETE FROM processed_events WHERE ctid = ANY(ARRAY(
      SELECT ctid FROM processed_events WHERE processed_at < now() - make_interval(hours => ${olderThanHours})
      LIMIT ${limit})) RETURNING 1`;
  return rows.length;
}
