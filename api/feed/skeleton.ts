import { beginIdSetBuild, finishIdSetBuild, headTtlSeconds } from "../../core/cache.ts";
import { type CursorPosition, decodeCursor, encodeCursor } from "../../core/cursor.ts";
import { timestampOf } from "../../core/ids.ts";
import { type RedisCommand, runCommands } from "../../core/redis.ts";
import { withRedis } from "../../core/redis-breaker.ts";
import { HEAD_SENTINEL, isIdSetMarker, keys } from "../../core/redis-keys.ts";
import { feedSources, rebuildFeed } from "../../db/feed.ts";
import type { Deps } from "../deps.ts";
import type { KnownState } from "../hydrate/hydrate-posts.ts";
import { cachedSkeleton, SAME_MS_SLACK } from "./cached-skeleton.ts";
import { writeTouches } from "./reader-touches.ts";

// GET /feed: skeleton (ids from the cached head, or a keyset page of user_feed, merged with the
// posts of pull authors) → hydration → presentation. A page costs at most one PostgreSQL
// statement for its skeleton and one for hydration, whatever its size; Redis round-trips are
// fixed too.

const PULL_TTL_SECONDS = 300;

interface Item {
  id: string;
  at: number;
}

const itemOf = (id: string): Item => ({ id, at: timestampOf(id) });

/** Newest first: by time, then by id. */
function newerFirst(a: Item, b: Item): number {
  if (a.at !== b.at) return b.at - a.at;
  const x = BigInt(a.id);
  const y = BigInt(b.id);
  return x === y ? 0 : x > y ? -1 : 1;
}

function isAfter(it: Item, cursor: CursorPosition | null): boolean {
  if (!cursor) return true;
  return it.at < cursor.at || (it.at === cursor.at && BigInt(it.id) < BigInt(cursor.id));
}

/** Merges sorted sources, drops duplicates and everything not after the cursor, takes n. */
export function mergePage(sources: readonly Item[][], cursor: CursorPosition | null, n: number): Item[] {
  const seen = new Set<string>();
  const all: Item[] = [];
  for (const src of sources) {
    for (const it of src) {
      if (isIdSetMarker(it.id) || seen.has(it.id) || !isAfter(it, cursor)) continue;
      seen.add(it.id);
      all.push(it);
    }
  }
  return all.sort(newerFirst).slice(0, n);
}

/** Post ids of a ZRANGE answer, without the markers. */
function idsOf(ids: string[]): Item[] {
  const out: Item[] = [];
  for (const id of ids) if (!isIdSetMarker(id)) out.push(itemOf(id));
  return out;
}

/** A page's skeleton: its post ids in order, and the cursor of the next page. */
export interface FeedSkeleton {
  ids: string[];
  nextCursor: string | null;
  /** What the skeleton read of the page besides its ids (counts, liked flags). */
  known?: KnownState;
}

export async function feedSkeleton(
  deps: Deps,
  viewerId: string,
  limit: number,
  rawCursor: string | undefined,
  opts: { fromCachesFirst?: boolean } = {},
): Promise<FeedSkeleton> {
  const { config, redis } = deps;
  const cursor = rawCursor ? decodeCursor("feed", rawCursor) : null;
  // Most pages: every cache complete, two round-trips (cached-skeleton.ts).
  if (opts.fromCachesFirst !== false) {
    const cached = await cachedSkeleton(deps, viewerId, limit, cursor);
    if (cached) {
      deps.metrics.feedCache.inc({ result: "hit" });
      return cached;
    }
  }
  const headKey = keys.feedHead(viewerId);
  const pullKey = keys.pullFollows(viewerId);
  const want = limit + 1;
  const max = cursor ? String(cursor.at) : "+inf";
  const range = (key: string): RedisCommand => [
    "zrange",
    key,
    max,
    "-inf",
    "BYSCORE",
    "REV",
    "LIMIT",
    "0",
    String(want + SAME_MS_SLACK + 1),
  ];

  // Redis round-trip 1 (readHead). The first read of a day (no seen mark, and no touch of this
  // process's on the way) is recorded in feed_readers, and asks whether the reader is back after
  // FEED_ACTIVE_DAYS away.
  const round1 = await readHead(deps, viewerId, range(headKey));
  const firstToday = round1?.[5]?.[1] === 0 && !deps.touches?.has(viewerId);
  const redisUp = round1 !== null;
  const [headRes, readyRes, cardRes, pullRes] = round1 ?? [];
  const headReady = readyRes?.[1] !== null && readyRes?.[1] !== undefined;
  const headExists = (cardRes?.[1] as number) > 0;
  const headItems = headReady
    ? idsOf((headRes?.[1] as string[]) ?? []).filter((it) => isAfter(it, cursor))
    : [];
  const headSize = headReady ? (cardRes?.[1] as number) - 1 : 0; // minus the sentinel
  deps.metrics.feedCache.inc({ result: headReady ? "hit" : "miss" });
  let pullAuthors: string[] | null = pullRes?.[1] ? (JSON.parse(pullRes[1] as string) as string[]) : null;

  // Redis round-trip 2: the cached recent posts of each pull author followed (one pipeline; on a
  // cluster, where authors' caches sit on several nodes, the same commands sent together).
  const authorPosts = new Map<string, Item[]>();
  const missingAuthors: string[] = [];
  const pastCache: string[] = [];
  if (pullAuthors?.length) {
    const authors = pullAuthors;
    const res = await withRedis(
      redis,
      () =>
        runCommands(
          redis,
          authors.flatMap((a): RedisCommand[] => [
            range(keys.authorPosts(a)),
            ["zscore", keys.authorPosts(a), HEAD_SENTINEL],
            ["zcard", keys.authorPosts(a)],
          ]),
        ),
      () => null,
    );
    // Redis went away since round-trip 1: each author's page comes from PostgreSQL, uncached.
    if (res === null) pastCache.push(...authors);
    else
      pullAuthors.forEach((a, i) => {
        const ready = res[i * 3 + 1]?.[1] !== null && res[i * 3 + 1]?.[1] !== undefined;
        if (!ready) {
          missingAuthors.push(a);
          return;
        }
        const items = idsOf((res[i * 3]?.[1] as string[]) ?? []).filter((it) => isAfter(it, cursor));
        const size = (res[i * 3 + 2]?.[1] as number) - 1;
        // A full cache that runs out before this page does not know what lies past it.
        if (items.length < want && size >= config.AUTHOR_CACHE_POSTS) pastCache.push(a);
        else authorPosts.set(a, items);
      });
  }

  // The head answers the page when it holds enough items past the cursor, or when it holds the
  // whole feed (fewer than FEED_CACHE_ITEMS items). Otherwise the page is a keyset scan.
  const headAnswers = headReady && (headItems.length >= want || headSize < config.FEED_CACHE_ITEMS);
  let pageItems: Item[] = headAnswers ? headItems : [];

  if (
    !headAnswers ||
    pullAuthors === null ||
    missingAuthors.length > 0 ||
    pastCache.length > 0 ||
    firstToday
  ) {
    // Rebuilds start before the query so that pushes made meanwhile land in the new sets.
    // All at once rather than one after another: each is one script call.
    const [buildHead, ...authorTokens] = await Promise.all([
      redisUp && !headExists ? beginIdSetBuild(redis, headKey).catch(() => null) : null,
      ...missingAuthors.map((a) => beginIdSetBuild(redis, keys.authorPosts(a)).catch(() => null)),
    ]);
    const buildAuthors = new Map<string, string>();
    missingAuthors.forEach((a, i) => {
      const token = authorTokens[i];
      if (token) buildAuthors.set(a, token);
    });

    // PostgreSQL statement 1 (only when a cache missed, or on the first read of the day):
    // everything the skeleton still needs.
    const src = await feedSources(deps.plannedSql ?? deps.sql, {
      userId: viewerId,
      headLimit: buildHead !== null ? config.FEED_CACHE_ITEMS : 0,
      after: cursor,
      pageLimit: headAnswers ? 0 : want,
      findPullAuthors: pullAuthors === null,
      pullThreshold: config.FANOUT_PULL_THRESHOLD,
      pullAuthorsNeedingPosts: missingAuthors,
      pullAuthorsPastCache: pastCache,
      authorPostsLimit: config.AUTHOR_CACHE_POSTS,
      pagePullLimit: want,
      returningAfterDays: firstToday ? config.FEED_ACTIVE_DAYS : 0,
    });
    if (src.returning) {
      // Its head (and the build just begun) are dropped: the page is read again from the rebuilt feed.
      await rebuildReturningReader(deps, viewerId);
      return feedSkeleton(deps, viewerId, limit, rawCursor, { fromCachesFirst: false });
    }
    if (firstToday) {
      if (deps.touches) deps.touches.add(viewerId);
      else await writeTouches(deps, [viewerId]);
    }
    if (!headAnswers) pageItems = src.page.map(itemOf);
    if (src.pull_authors) pullAuthors = src.pull_authors;
    for (const pp of src.pull_page) authorPosts.set(pp.author_id, pp.ids.map(itemOf));

    // Cache fills go out together and are best effort. The page does not wait for them: it has
    // its ids, and until a set is complete readers take this path (their build markers say so).
    const fills: Promise<unknown>[] = [];
    if (buildHead !== null) {
      fills.push(
        finishIdSetBuild(
          redis,
          headKey,
          buildHead,
          src.head.map(itemOf),
          config.FEED_CACHE_ITEMS,
          headTtlSeconds(config),
        ),
      );
    }
    if (src.pull_authors && redisUp)
      fills.push(redis.set(pullKey, JSON.stringify(src.pull_authors), "EX", PULL_TTL_SECONDS));
    for (const pp of src.pull_posts) {
      const token = buildAuthors.get(pp.author_id);
      if (token === undefined) continue;
      fills.push(
        finishIdSetBuild(
          redis,
          keys.authorPosts(pp.author_id),
          token,
          pp.ids.map(itemOf),
          config.AUTHOR_CACHE_POSTS,
          config.CACHE_TTL_SECONDS,
        ),
      );
    }
    void Promise.all(fills).catch(() => {});
  }

  const merged = mergePage(
    [pageItems, ...(pullAuthors ?? []).map((a) => authorPosts.get(a) ?? [])],
    cursor,
    want,
  );
  const hasMore = merged.length > limit;
  const pageIds = merged.slice(0, limit);
  const last = pageIds[pageIds.length - 1];
  return { ids: pageIds.map((i) => i.id), nextCursor: hasMore && last ? encodeCursor("feed", last) : null };
}

/**
 * Redis round-trip 1: the head page past the cursor, whether the head is complete, its size, the
 * pull authors followed; reading also keeps the head alive for FEED_ACTIVE_DAYS (it marks the
 * reader active, so fan-out keeps pushing to it), and whether the reader's seen-today mark is
 * there (the sixth reply is 0 on the first read of a day). One MULTI on a cluster too: the reader's keys
 * share the reader's hash tag (core/redis-keys.ts). Null with Redis down: the page then comes
 * from PostgreSQL alone, as for a reader with no cache, and nothing is cached on the way.
 */
async function readHead(
  deps: Deps,
  viewerId: string,
  headRange: RedisCommand,
): Promise<[Error | null, unknown][] | null> {
  const { redis, config } = deps;
  const headKey = keys.feedHead(viewerId);
  return (await withRedis(
    redis,
    () =>
      redis
        .multi()
        .call(...headRange)
        .zscore(headKey, HEAD_SENTINEL)
        .zcard(headKey)
        .get(keys.pullFollows(viewerId))
        .expire(headKey, headTtlSeconds(config))
        .exists(keys.readerSeen(viewerId))
        .exec(),
    () => null,
  )) as [Error | null, unknown][] | null;
}

/**
 * A reader back after more than FEED_ACTIVE_DAYS: fan-out skipped them, so user_feed lacks what
 * was posted meanwhile. Their read is recorded first, at once: fan-out must count them active
 * before the rebuild's snapshot, or a post fanned out in between would reach neither. Then
 * user_feed is rebuilt from follows and posts (one statement) and any head left is dropped.
 */
async function rebuildReturningReader(deps: Deps, viewerId: string): Promise<void> {
  await writeTouches(deps, [viewerId]);
  await rebuildFeed(deps.sql, {
    userId: viewerId,
    max: deps.config.FEED_MAX_ITEMS,
    pullThreshold: deps.config.FANOUT_PULL_THRESHOLD,
  });
  await deps.redis.del(keys.feedHead(viewerId));
}
