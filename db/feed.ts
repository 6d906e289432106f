import type { CachedPost, CachedUser } from "../core/cache.ts";
import type { CursorPosition } from "../core/cursor.ts";
import { shardOf } from "../core/ids.ts";
import type { AnySql, Sql } from "./client.ts";

// The read model (user_feed) and the queries of the feed read path. Post ids are time-ordered
// and a post's created_at is derived from its id, so ids alone carry the order; callers get
// ids and compute timestamps with core/ids.timestampOf.

export interface FeedSourcesRequest {
  userId: string;
  /** Newest items to rebuild the cached head with; 0 when the head is cached. */
  headLimit: number;
  /** A keyset page strictly after `after`; pageLimit 0 when the page comes from the head. */
  after: CursorPosition | null;
  pageLimit: number;
  /** Find the pull authors the user follows (the per-reader cache missed). */
  findPullAuthors: boolean;
  pullThreshold: number;
  /** Pull authors whose recent posts are needed (their author cache missed). */
  pullAuthorsNeedingPosts: readonly string[];
  /** Pull authors whose cache is complete but too short for a page this deep. */
  pullAuthorsPastCache: readonly string[];
  authorPostsLimit: number;
  /** Rows of each pull author's keyset page (the page size plus one). */
  pagePullLimit: number;
  /** Tell whether the reader comes back after more than this many days away; 0: do not ask. */
  returningAfterDays: number;
}

export interface FeedSources {
  head: string[];
  page: string[];
  pull_authors: string[] | null;
  /** Newest AUTHOR_CACHE_POSTS of each pull author whose cache missed (to fill it). */
  pull_posts: { author_id: string; ids: string[] }[];
  /** A keyset page past the cursor of each pull author that needed one. */
  pull_page: { author_id: string; ids: string[] }[];
  /** The reader last read more than returningAfterDays ago (fan-out has skipped them since). */
  returning: boolean;
}

/**
 * Everything the feed read path may need from PostgreSQL, in one round-trip: the head rebuild,
 * a keyset page, the pull authors followed, the newest posts of pull authors whose cache missed
 * (to fill it), keyset pages past the cursor of pull authors, and whether the reader is
 * returning. Parts that are not needed cost nothing (LIMIT 0, empty sets). Meant for a pool with
 * generic plans (api's plannedSql): every table is pruned at execution, the reader's partitions by
 * `$userId`, each author's posts partition by `id_shard(author)` on each rescan, so the plan is
 * made once per connection (a custom plan cost 1.1 ms of planning, the generic one 0.03 ms).
 */
export async function feedSources(sql: AnySql, r: FeedSourcesRequest): Promise<FeedSources> {
  const hasAfter = r.after !== null;
  const afterAt = r.after?.at ?? 0;
  const afterId = r.after?.id ?? "0";
  const [row] = await sql<FeedSources[]>`
    WITH pulls AS (
      SELECT f.followee_id AS author_id FROM follows f
      WHERE ${r.findPullAuthors} AND f.follower_id = ${r.userId}
        AND EXISTS (SELECT 1 FROM user_stats s WHERE s.user_id = f.followee_id AND s.followers_count > ${r.pullThreshold})
    ), paging AS (
      SELECT author_id FROM pulls
      UNION SELECT unnest(${r.pullAuthorsNeedingPosts as string[]}::bigint[] || ${r.pullAuthorsPastCache as string[]}::bigint[])
    )
    SELECT
      ARRAY(SELECT f.post_id::text FROM user_feed f WHERE f.user_id = ${r.userId}
            ORDER BY f.created_at DESC, f.post_id DESC LIMIT ${r.headLimit}) AS head,
      ARRAY(SELECT f.post_id::text FROM user_feed f WHERE f.user_id = ${r.userId}
              AND (f.created_at, f.post_id) < (CASE WHEN ${hasAfter} THEN to_timestamp(${afterAt} / 1000.0)
                                                    ELSE 'infinity'::timestamptz END, ${afterId}::bigint)
            ORDER BY f.created_at DESC, f.post_id DESC LIMIT ${r.pageLimit}) AS page,
      CASE WHEN ${r.findPullAuthors} THEN ARRAY(SELECT author_id::text FROM pulls) END AS pull_authors,
      coalesce((SELECT json_agg(json_build_object('author_id', a::text, 'ids', ARRAY(
                 SELECT p.id::text FROM posts p WHERE p.shard = id_shard(a) AND p.author_id = a
                 ORDER BY p.created_at DESC, p.id DESC LIMIT ${r.authorPostsLimit})))
                FROM unnest(${r.pullAuthorsNeedingPosts as string[]}::bigint[]) a), '[]'::json) AS pull_posts,
      coalesce((SELECT json_agg(json_build_object('author_id', g.author_id::text, 'ids', ARRAY(
                 SELECT p.id::text FROM posts p WHERE p.shard = id_shard(g.author_id) AND p.author_id = g.author_id
                   AND (p.created_at, p.id) < (CASE WHEN ${hasAfter} THEN to_timestamp(${afterAt} / 1000.0)
                                                    ELSE 'infinity'::timestamptz END, ${afterId}::bigint)
                 ORDER BY p.created_at DESC, p.id DESC LIMIT ${r.pagePullLimit})))
                FROM paging g), '[]'::json) AS pull_page,
      ${r.returningAfterDays > 0} AND coalesce((SELECT away OR last_read_at < now() - make_interval(days => ${r.returningAfterDays})
                FROM feed_readers WHERE user_id = ${r.userId}), false) AS returning`;
  return row!;
}

export interface HydrationRequest {
  viewerId: string | null;
  postIds: readonly string[]; // posts whose bodies missed the cache
  statIds: readonly string[]; // posts whose like counts missed the cache
  userIds: readonly string[]; // authors (known from cached bodies) that missed the cache
  likedIds: readonly string[]; // posts to check liked_by_me on
  /** Every like of the viewer, up to this many (a liked-set build, core/liked-set.ts); 0: none. */
  likedAllLimit?: number;
}

export interface HydrationRows {
  posts: CachedPost[];
  stats: { post_id: string; like_count: number }[];
  users: CachedUser[];
  liked: string[];
  liked_all: string[];
}

/**
 * Batched hydration in one round-trip: post bodies, like counts, the authors of those posts (and
 * of cached posts whose author missed), which of the posts the viewer liked, and, to build the
 * viewer's liked set, their likes (an index-only scan of one partition of likes' primary key).
 */
export async function hydrationRows(sql: AnySql, r: HydrationRequest): Promise<HydrationRows> {
  // Each id with its shard, joined row by row: the plan is made once per connection and each
  // probe reaches the one partition of its shard (run-time pruning). `shard = ANY(…)` instead
  // pruned nothing in that plan: every id was looked up in all 16 partitions (4.6 ms against
  // 0.2 ms for a page of 20 on the 1M seed).
  const [row] = await sql<HydrationRows[]>`
    WITH p AS (
      SELECT p.id, p.author_id, p.text, p.image_key, p.image_width, p.image_height, p.image_variants
      FROM unnest(${r.postIds.map(shardOf)}::int[], ${r.postIds as string[]}::bigint[]) AS k(shard, id)
      JOIN posts p ON p.shard = k.shard AND p.id = k.id
    )
    SELECT
      coalesce((SELECT json_agg(json_build_object('id', id::text, 'author_id', author_id::text, 'text', text,
                'image_key', image_key, 'image_width', image_width, 'image_height', image_height, 'image_variants', image_variants)) FROM p), '[]'::json) AS posts,
      coalesce((SELECT json_agg(json_build_object('post_id', s.post_id::text, 'like_count', s.like_count))
                FROM unnest(${r.statIds.map(shardOf)}::int[], ${r.statIds as string[]}::bigint[]) AS k(shard, id)
                JOIN post_stats s ON s.shard = k.shard AND s.post_id = k.id), '[]'::json) AS stats,
      coalesce((SELECT json_agg(json_build_object('id', id::text, 'handle', handle, 'display_name', display_name,
                'avatar_key', avatar_key, 'avatar_thumb_key', avatar_thumb_key)) FROM users
                WHERE id = ANY(${r.userIds as string[]}::bigint[] || ARRAY(SELECT author_id FROM p))), '[]'::json) AS users,
      ARRAY(SELECT post_id::text FROM likes WHERE user_id = ${r.viewerId}::bigint
              AND post_id = ANY(${r.likedIds as string[]}::bigint[])) AS liked,
      ARRAY(SELECT post_id::text FROM likes WHERE user_id = ${r.viewerId}::bigint
              LIMIT ${r.likedAllLimit ?? 0}) AS liked_all`;
  return row!;
}

/** Popular posts: the most liked of those created within the window. */
export async function popularPosts(
  sql: AnySql,
  windowHours: number,
  limit: number,
): Promise<{ post_id: string; like_count: number }[]> {
  return sql<{ post_id: string; like_count: number }[]>`
    SELECT post_id::text, like_count::int FROM post_stats
    WHERE post_created_at > now() - make_interval(hours => ${windowHours}) AND like_count > 0
    ORDER BY like_count DESC, post_id DESC LIMIT ${limit}`;
}

/**
 * Records that these readers read their feed now (api/feed/reader-touches.ts: in batches, and a
 * returning reader's at once, before their rebuild), and puts the follows of those who were away
 * back into active_follows. Returns what each existing row said before: away, and idle longer
 * than `activeDays`. A reader with no row yet was never away.
 *
 * Two statements: the rows are locked first, which waits for a sweep marking them away and
 * reads what it committed; the second statement's snapshot is taken after the locks are held,
 * so it sees every follow committed before, and a follow committed after waited for the lock
 * and saw the reader active (db/graph.ts insertFollow). One statement would read follows from a
 * snapshot older than its lock.
 */
export async function touchReaders(
  sql: Sql,
  userIds: readonly string[],
  activeDays = 0,
): Promise<{ user_id: string; away: boolean; idle: boolean }[]> {
  return sql.begin(async (tx) => {
    const before = await tx<{ user_id: string; away: boolean; idle: boolean }[]>`
      SELECT user_id::text, away, last_read_at < now() - make_interval(days => ${activeDays}) AS idle
      FROM feed_readers WHERE user_id = ANY(${userIds as string[]}::bigint[]) ORDER BY user_id FOR UPDATE`;
    const away = before.filter((r) => r.away).map((r) => r.user_id);
    await tx`
      WITH touched AS (
        INSERT INTO feed_readers (user_id, last_read_at)
        SELECT id, now() FROM unnest(${userIds as string[]}::bigint[]) AS id ORDER BY id
        ON CONFLICT (user_id) DO UPDATE SET last_read_at = now(), away = false
      )
      INSERT INTO active_follows (followee_id, follower_id)
      SELECT f.followee_id, f.follower_id FROM follows f WHERE f.follower_id = ANY(${away}::bigint[])
      ON CONFLICT DO NOTHING`;
    return before;
  });
}

/**
 * Marks up to `limit` readers idle longer than `activeDays` away, and deletes their follows from
 * active_follows, in one statement: fan-out stops writing for them, and their next read
 * rebuilds their feed (touchReaders). Their rows are locked: a read of theirs that commits first
 * takes them out of this sweep, and one that comes later waits and then adds them back.
 */
export async function sweepAwayReaders(sql: AnySql, activeDays: number, limit: number): Promise<number> {
  const [r] = await sql<{ n: number }[]>`
    WITH gone AS (
      SELECT user_id FROM feed_readers
      WHERE NOT away AND last_read_at < now() - make_interval(days => ${activeDays})
      ORDER BY last_read_at LIMIT ${limit} FOR UPDATE SKIP LOCKED
    ), marked AS (
      UPDATE feed_readers r SET away = true FROM gone g WHERE r.user_id = g.user_id
    ), dropped AS (
      DELETE FROM active_follows a USING gone g WHERE a.follower_id = g.user_id
    )
    SELECT count(*)::int AS n FROM gone`;
  return r!.n;
}

/**
 * Rebuilds a returning reader's user_feed from the write model, as fan-out would have built it:
 * the newest `max` posts of the push authors they follow, and their own. (Pull authors are merged
 * at read time.) One statement: an index probe per followee on posts_author_idx, each limited.
 * Idempotent, and safe beside a concurrent fan-out (both upsert the same rows).
 */
export async function rebuildFeed(
  sql: AnySql,
  r: { userId: string; max: number; pullThreshold: number },
): Promise<number> {
  const res = await sql`
    INSERT INTO user_feed (user_id, post_id, author_id, created_at)
    SELECT ${r.userId}, p.id, p.author_id, p.created_at
    FROM (
      SELECT f.followee_id AS author_id FROM follows f
      WHERE f.follower_id = ${r.userId}
        AND NOT EXISTS (SELECT 1 FROM user_stats s
                        WHERE s.user_id = f.followee_id AND s.followers_count > ${r.pullThreshold})
      UNION ALL SELECT ${r.userId}::bigint
    ) a
    CROSS JOIN LATERAL (
      SELECT id, author_id, created_at FROM posts
      WHERE shard = id_shard(a.author_id) AND author_id = a.author_id
      ORDER BY created_at DESC, id DESC LIMIT ${r.max}
    ) p
    ORDER BY p.created_at DESC, p.id DESC
    LIMIT ${r.max}
    ON CONFLICT DO NOTHING`;
  return res.count;
}
