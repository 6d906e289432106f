import { headTtlSeconds, writeIdSet } from "../../core/cache.ts";
import { type CursorPosition, decodeCursor, encodeCursor } from "../../core/cursor.ts";
import { timestampOf } from "../../core/ids.ts";
import { HEAD_SENTINEL, keys } from "../../core/redis-keys.ts";
import { feedSources } from "../../db/feed.ts";
import type { Deps } from "../deps.ts";
import { hydratePosts } from "../hydrate/hydrate-posts.ts";
import type { WirePost } from "../hydrate/present.ts";

// GET /feed: skeleton (ids from the cached head, or a keyset page of user_feed, merged with the
// posts of pull authors) → hydration → presentation. A page costs at most one PostgreSQL
// statement for its skeleton and one for hydration, whatever its size; Redis round-trips are
// fixed too.

const PULL_TTL_SECONDS = 300;
/** Extra ids read past the cursor's millisecond, to step over posts that share it. */
const SAME_MS_SLACK = 50;

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
      if (it.id === HEAD_SENTINEL || seen.has(it.id) || !isAfter(it, cursor)) continue;
      seen.add(it.id);
      all.push(it);
    }
  }
  return all.sort(newerFirst).slice(0, n);
}

function zsetItems(flat: string[]): Item[] {
  const out: Item[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    const id = flat[i]!;
    if (id !== HEAD_SENTINEL) out.push(itemOf(id));
  }
  return out;
}

export interface FeedPage {
  items: WirePost[];
  next_cursor: string | null;
}

export async function readFeed(
  deps: Deps,
  viewerId: string,
  limit: number,
  rawCursor: string | undefined,
): Promise<FeedPage> {
  const { config, redis } = deps;
  const cursor = rawCursor ? decodeCursor("feed", rawCursor) : null;
  const headKey = keys.feedHead(viewerId);
  const pullKey = keys.pullFollows(viewerId);
  const want = limit + 1;

  // Redis round-trip 1: the head page past the cursor, the head's size, the pull authors followed;
  // reading also keeps the head alive for FEED_ACTIVE_DAYS (it marks the reader active).
  const max = cursor ? String(cursor.at) : "+inf";
  const [headRes, cardRes, pullRes] = (await redis
    .multi()
    .zrange(headKey, max, "-inf", "BYSCORE", "REV", "LIMIT", 0, want + SAME_MS_SLACK + 1, "WITHSCORES")
    .zcard(headKey)
    .get(pullKey)
    .expire(headKey, headTtlSeconds(config))
    .exec()) as [Error | null, unknown][];
  const headCached = (cardRes?.[1] as number) > 0;
  const headItems = headCached
    ? zsetItems((headRes?.[1] as string[]) ?? []).filter((it) => isAfter(it, cursor))
    : [];
  const headSize = headCached ? (cardRes?.[1] as number) - 1 : 0; // minus the sentinel
  deps.metrics.feedCache.inc({ result: headCached ? "hit" : "miss" });
  let pullAuthors: string[] | null = pullRes?.[1] ? (JSON.parse(pullRes[1] as string) as string[]) : null;

  // Redis round-trip 2: the cached recent posts of each pull author followed.
  const authorPosts = new Map<string, Item[]>();
  const readAuthorCaches = async (authors: string[]) => {
    if (authors.length === 0) return;
    const pipe = redis.pipeline();
    for (const a of authors)
      pipe.zrange(
        keys.authorPosts(a),
        max,
        "-inf",
        "BYSCORE",
        "REV",
        "LIMIT",
        0,
        want + SAME_MS_SLACK + 1,
        "WITHSCORES",
      );
    const res = (await pipe.exec()) ?? [];
    authors.forEach((a, i) => {
      const flat = res[i]?.[1] as string[] | undefined;
      if (flat && flat.length > 0) authorPosts.set(a, zsetItems(flat));
    });
  };
  if (pullAuthors) await readAuthorCaches(pullAuthors);

  // The head answers the page when it holds enough items past the cursor, or when it holds the
  // whole feed (fewer than FEED_CACHE_ITEMS items). Otherwise the page is a keyset scan.
  const headAnswers = headCached && (headItems.length >= want || headSize < config.FEED_CACHE_ITEMS);
  const missingAuthors = (pullAuthors ?? []).filter((a) => !authorPosts.has(a));
  let pageItems: Item[] = headAnswers ? headItems : [];

  if (!headCached || !headAnswers || pullAuthors === null || missingAuthors.length > 0) {
    // PostgreSQL statement 1 (only when a cache missed): everything the skeleton still needs.
    const src = await feedSources(deps.sql, {
      userId: viewerId,
      headLimit: headCached ? 0 : config.FEED_CACHE_ITEMS,
      after: cursor,
      pageLimit: headAnswers ? 0 : want,
      findPullAuthors: pullAuthors === null,
      pullThreshold: config.FANOUT_PULL_THRESHOLD,
      pullAuthorsNeedingPosts: missingAuthors,
      authorPostsLimit: config.AUTHOR_CACHE_POSTS,
    });
    if (!headAnswers) pageItems = src.page.map(itemOf);
    // Cache fills go out together (one pipelined round-trip) and are best effort.
    const fills: Promise<unknown>[] = [];
    if (!headCached) fills.push(writeIdSet(redis, headKey, src.head.map(itemOf), headTtlSeconds(config)));
    if (src.pull_authors) {
      pullAuthors = src.pull_authors;
      fills.push(redis.set(pullKey, JSON.stringify(pullAuthors), "EX", PULL_TTL_SECONDS));
    }
    for (const pp of src.pull_posts) {
      const items = pp.ids.map(itemOf);
      authorPosts.set(pp.author_id, items);
      fills.push(writeIdSet(redis, keys.authorPosts(pp.author_id), items, config.CACHE_TTL_SECONDS));
    }
    await Promise.all(fills).catch(() => {});
  }

  const merged = mergePage(
    [pageItems, ...(pullAuthors ?? []).map((a) => authorPosts.get(a) ?? [])],
    cursor,
    want,
  );
  const hasMore = merged.length > limit;
  const pageIds = merged.slice(0, limit);
  const items = await hydratePosts(
    deps,
    viewerId,
    pageIds.map((i) => i.id),
  );
  const last = pageIds[pageIds.length - 1];
  return { items, next_cursor: hasMore && last ? encodeCursor("feed", last) : null };
}
