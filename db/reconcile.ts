import type { AnySql, Sql } from "./client.ts";
import { rebuildFeed } from "./feed.ts";

// Reconciliation (./dev reconcile): the write model (follows, posts, likes, outbox) against the
// read model (user_feed, user_stats, post_stats). Every figure must be 0 on a healthy, drained
// system; the chaos suite runs this after each fault.

export interface ReconcileOptions {
  /** Feed rows kept per reader (FEED_MAX_ITEMS): older posts are expected to be trimmed. */
  feedMaxItems: number;
  /** Authors above it are pulled at read time, never written into feeds. */
  pullThreshold: number;
  /** Readers away longer are skipped by fan-out (their feed is rebuilt when they return). */
  activeDays: number;
  /** Outbox rows older than this and still unpublished count (the sweeper's period + grace). */
  unpublishedAfterMs: number;
  /** Only these readers (a sample, on a big database); all readers when absent. */
  readers?: string[];
}

export interface Discrepancies {
  /** A post by a followed push author, newer than the follow and inside the reader's feed window, missing from the feed. */
  lost: number;
  /**
   * A feed entry for a reader who does not follow the author: a projection applied again after
   * its undo (a fan-out or backfill redone after the unfollow's cleanup). Rows themselves cannot
   * be doubled (primary keys); a doubled counter shows in stale_counts, and a command applied
   * twice (two posts for one request) is checked by the chaos suite against what it sent.
   */
  duplicated: number;
  /** Counters (likes, followers, following, posts) that differ from the rows they count. */
  stale_counts: number;
  /** Outbox rows not published well past the sweeper's period. */
  unpublished: number;
}

/** The examples behind each figure (a few of each), for the report. */
export interface ReconcileReport extends Discrepancies {
  examples: Record<keyof Discrepancies, string[]>;
}

const EXAMPLES = 5;

export async function reconcile(sql: Sql, o: ReconcileOptions): Promise<ReconcileReport> {
  const readers = o.readers ?? null;
  const lost = await sql<{ user_id: string; post_id: string }[]>`
    WITH readers AS (
      SELECT u.id FROM users u
      WHERE (${readers}::bigint[] IS NULL OR u.id = ANY(${readers}::bigint[]))
        AND NOT EXISTS (SELECT 1 FROM feed_readers r WHERE r.user_id = u.id
                        AND r.last_read_at < now() - make_interval(days => ${o.activeDays}))
    ), windowed AS (
      -- The oldest item a full feed keeps: anything older may rightly have been trimmed. A feed
      -- under the cap may have been trimmed before (and shrunk since, by an unfollow): items at
      -- or before its last cut are not expected either.
      SELECT r.id AS user_id, GREATEST(
        (SELECT created_at FROM user_feed uf WHERE uf.user_id = r.id
         ORDER BY created_at DESC, post_id DESC OFFSET ${o.feedMaxItems - 1} LIMIT 1),
        (SELECT t.trimmed_through FROM feed_trims t WHERE t.user_id = r.id)
      ) AS edge
      FROM readers r
    ), sources AS (
      -- The people a reader follows (since when), and the reader themself (own posts).
      SELECT w.user_id, w.edge, f.followee_id AS author_id, f.created_at AS since
      FROM windowed w JOIN follows f ON f.follower_id = w.user_id
      UNION ALL
      SELECT w.user_id, w.edge, w.user_id, '-infinity'::timestamptz FROM windowed w
    )
    SELECT s.user_id::text, p.id::text AS post_id
    FROM sources s
    JOIN posts p ON p.shard = id_shard(s.author_id) AND p.author_id = s.author_id
      AND p.created_at > s.since AND (s.edge IS NULL OR p.created_at > s.edge)
    WHERE (s.author_id = s.user_id OR NOT EXISTS (
            SELECT 1 FROM user_stats st WHERE st.user_id = s.author_id AND st.followers_count > ${o.pullThreshold}))
      AND NOT EXISTS (SELECT 1 FROM fanout_jobs j WHERE j.post_id = p.id)
      AND NOT EXISTS (SELECT 1 FROM user_feed uf
                      WHERE uf.user_id = s.user_id AND uf.created_at = p.created_at AND uf.post_id = p.id)
    LIMIT 100000`;

  const strangers = await sql<{ user_id: string; post_id: string }[]>`
    SELECT uf.user_id::text, uf.post_id::text FROM user_feed uf
    WHERE (${readers}::bigint[] IS NULL OR uf.user_id = ANY(${readers}::bigint[]))
      AND uf.user_id <> uf.author_id
      AND NOT EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = uf.user_id AND f.followee_id = uf.author_id)
    LIMIT 100000`;
  const stale = await staleCounts(sql, readers);
  const unpublished = await sql<{ id: string }[]>`
    SELECT id::text FROM outbox
    WHERE published_at IS NULL AND created_at < now() - make_interval(secs => ${o.unpublishedAfterMs / 1000})
    LIMIT 100000`;

  return {
    lost: lost.length,
    duplicated: strangers.length,
    stale_counts: stale.length,
    unpublished: unpublished.length,
    examples: {
      lost: lost.slice(0, EXAMPLES).map((r) => `post ${r.post_id} missing from ${r.user_id}'s feed`),
      duplicated: strangers
        .slice(0, EXAMPLES)
        .map((r) => `post ${r.post_id} in ${r.user_id}'s feed, who does not follow its author`),
      stale_counts: stale.slice(0, EXAMPLES),
      unpublished: unpublished.slice(0, EXAMPLES).map((r) => `outbox ${r.id}`),
    },
  };
}

async function staleCounts(sql: AnySql, readers: string[] | null): Promise<string[]> {
  const likes = await sql<{ post_id: string; stored: string; actual: string }[]>`
    SELECT ps.post_id::text, ps.like_count::text AS stored, coalesce(l.n, 0)::text AS actual
    FROM post_stats ps
    LEFT JOIN (SELECT post_id, count(*) AS n FROM likes GROUP BY post_id) l ON l.post_id = ps.post_id
    WHERE ps.like_count <> coalesce(l.n, 0)
      AND (${readers}::bigint[] IS NULL OR EXISTS (
        SELECT 1 FROM posts p WHERE p.shard = ps.shard AND p.id = ps.post_id AND p.author_id = ANY(${readers}::bigint[])))
    LIMIT 100000`;
  const users = await sql<{ user_id: string; what: string; stored: string; actual: string }[]>`
    WITH scope AS (
      SELECT s.* FROM user_stats s WHERE ${readers}::bigint[] IS NULL OR s.user_id = ANY(${readers}::bigint[])
    ), truth AS (
      SELECT s.user_id, s.followers_count, s.following_count, s.posts_count,
        (SELECT count(*) FROM follows f WHERE f.followee_id = s.user_id) AS followers,
        (SELECT count(*) FROM follows f WHERE f.follower_id = s.user_id) AS following,
        (SELECT count(*) FROM posts p WHERE p.shard = id_shard(s.user_id) AND p.author_id = s.user_id) AS posts
      FROM scope s
    )
    SELECT user_id::text, 'followers' AS what, followers_count::text AS stored, followers::text AS actual FROM truth WHERE followers_count <> followers
    UNION ALL
    SELECT user_id::text, 'following', following_count::text, following::text FROM truth WHERE following_count <> following
    UNION ALL
    SELECT user_id::text, 'posts', posts_count::text, posts::text FROM truth WHERE posts_count <> posts
    LIMIT 100000`;
  return [
    ...likes.map((r) => `post ${r.post_id}: like_count ${r.stored}, likes ${r.actual}`),
    ...users.map((r) => `user ${r.user_id}: ${r.what} ${r.stored}, rows ${r.actual}`),
  ];
}

/** A random sample of user ids (for reconciling a big database in bounded time). */
export async function sampleUsers(sql: Sql, n: number): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`SELECT id::text FROM users ORDER BY random() LIMIT ${n}`;
  return rows.map((r) => r.id);
}

/**
 * Rebuilds one reader's user_feed from the write model, online: the rows are replaced in one
 * transaction (readers see the old feed or the new one), as fan-out would have built it.
 */
export async function rebuildUserFeed(
  sql: Sql,
  r: { userId: string; max: number; pullThreshold: number },
): Promise<number> {
  return sql.begin(async (tx) => {
    await tx`DELETE FROM user_feed WHERE user_id = ${r.userId}`;
    const n = await rebuildFeed(tx, r);
    // A rebuild at the cap left older posts out, as a trim would have; under it, nothing.
    if (n >= r.max)
      await tx`
        INSERT INTO feed_trims (user_id, trimmed_through)
        SELECT ${r.userId}, min(created_at) - interval '1 microsecond' FROM user_feed WHERE user_id = ${r.userId}
        ON CONFLICT (user_id) DO UPDATE SET trimmed_through = EXCLUDED.trimmed_through`;
    else await tx`DELETE FROM feed_trims WHERE user_id = ${r.userId}`;
    return n;
  });
}

/** User ids in id order after `after`, a page at a time (rebuilding every feed). */
export async function userIdsAfter(sql: AnySql, after: string, limit: number): Promise<string[]> {
  const rows = await sql<
    { id: string }[]
  >`SELECT id::text FROM users WHERE id > ${after} ORDER BY id LIMIT ${limit}`;
  return rows.map((r) => r.id);
}

/** Posts whose text starts with `prefix`, counted per text: a command applied twice shows as 2. */
export async function postCountsByText(sql: AnySql, prefix: string): Promise<Map<string, number>> {
  const rows = await sql<{ text: string; n: number }[]>`
    SELECT text, count(*)::int AS n FROM posts
    WHERE starts_with(text, ${prefix}) GROUP BY text`;
  return new Map(rows.map((r) => [r.text, r.n]));
}

/** Each user's liked post ids (the chaos suite compares them with the cached liked sets). */
export async function likedPostsOf(
  sql: AnySql,
  userIds: readonly string[],
): Promise<Map<string, Set<string>>> {
  const rows = await sql<{ user_id: string; post_id: string }[]>`
    SELECT user_id::text, post_id::text FROM likes WHERE user_id = ANY(${userIds as string[]}::bigint[])`;
  const out = new Map<string, Set<string>>(userIds.map((u) => [u, new Set()]));
  for (const r of rows) out.get(r.user_id)?.add(r.post_id);
  return out;
}
