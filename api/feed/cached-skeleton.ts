import { type CursorPosition, encodeCursor } from "../../core/cursor.ts";
import { timestampOf } from "../../core/ids.ts";
import { likedSetQuery } from "../../core/liked-set.ts";
import { isCluster, type Redis } from "../../core/redis.ts";
import { redisLooksDown } from "../../core/redis-breaker.ts";
import { HEAD_SENTINEL, isIdSetMarker, keys } from "../../core/redis-keys.ts";
import type { Deps } from "../deps.ts";
import { liveMemory } from "../hydrate/memory.ts";
import type { FeedSkeleton } from "./skeleton.ts";

// A fully cached feed page from Redis's caches alone (one Redis, not a cluster), in plain
// commands: the reader's head past the cursor with what says it may be trusted; for a reader who
// follows pull authors, each one's cached posts, merged here; then the page's like counts and the
// reader's liked flags. Two round-trips, three with pull authors. A script doing it all in one
// round-trip was measured and dropped: it costs Redis more (it pays to convert every reply it
// reads into Lua and back: perf/bench-causes.md), and Redis is the one process that cannot
// scale out on a box. It answers only when every cache it needs is complete and answers the page
// by itself; otherwise (a head or author cache missing or being rebuilt, no pull list, the first
// read of the day, a page deeper than the caches) the page takes the general path (skeleton.ts),
// which rebuilds what is missing. So it reads what that path reads and decides as it does.

/** Extra ids read past a cursor: its own ms may hold posts that are not after it. */
export const SAME_MS_SLACK = 50;

/**
 * Ids to range per set: the page and one more; from the top also the markers scored +inf (the
 * sentinel, a rebuild's token), past a cursor room for the posts that share its ms.
 */
const rangeSize = (want: number, cursor: CursorPosition | null) =>
  cursor ? want + SAME_MS_SLACK + 1 : want + 2;

/** The page from the caches alone, or null when the general path must answer it. */
export async function cachedSkeleton(
  deps: Deps,
  viewerId: string,
  limit: number,
  cursor: CursorPosition | null,
): Promise<FeedSkeleton | null> {
  const { redis } = deps;
  // A cluster keeps a reader's keys and the authors' caches on several nodes: the general path.
  if (isCluster(redis) || redisLooksDown(redis)) return null;
  try {
    return await pageFromCaches({
      deps,
      redis,
      viewerId,
      limit,
      cursor,
      want: limit + 1,
      likes: deps.config.LIKES_CACHE_MAX > 0,
    });
  } catch {
    return null; // the general path has the fallbacks
  }
}

/** One page asked of the caches. */
interface PageRequest {
  deps: Deps;
  redis: Redis;
  viewerId: string;
  limit: number;
  cursor: CursorPosition | null;
  /** The page and one more, to know whether another page follows. */
  want: number;
  /** Whether liked sets are on (LIKES_CACHE_MAX > 0). */
  likes: boolean;
}

async function pageFromCaches(r: PageRequest): Promise<FeedSkeleton | null> {
  const { deps, redis, viewerId, limit, cursor, want, likes } = r;
  const { config } = deps;
  const head = keys.feedHead(viewerId);
  const max = cursor ? String(cursor.at) : "+inf";
  const n = rangeSize(want, cursor);
  // Round-trip 1, plain commands sent together (cheaper for Redis than a script, which pays to
  // convert every reply it reads): the head past the cursor and what says it may be trusted. From
  // the top the range starts with the markers scored +inf, the sentinel among them; past a cursor
  // the sentinel is asked for. The pull list and the seen mark in one MGET (same hash tag).
  const [range, [pull, seen], sentinel] = await Promise.all([
    redis.zrange(head, max, "-inf", "BYSCORE", "REV", "LIMIT", 0, n),
    redis.mget(keys.pullFollows(viewerId), keys.readerSeen(viewerId)),
    cursor ? redis.zscore(head, HEAD_SENTINEL) : null,
  ]);
  // No seen mark: the first read of the day, which the general path records (and which renews
  // the head's TTL there: this path never writes), unless this process is recording it already.
  if (pull == null || (seen == null && !deps.touches?.has(viewerId))) return null;
  let past = trusted(r, range, 0, sentinel, config.FEED_CACHE_ITEMS);
  // The head's size matters only when the page runs past its end: asked for then alone (the
  // last page of a feed), not with every page.
  if (past && past.length < want)
    past = trusted(r, range, await redis.zcard(head), sentinel, config.FEED_CACHE_ITEMS);
  if (!past) return null;
  let page = past.slice(0, want);
  const authors = JSON.parse(pull) as string[];
  if (authors.length > 0) {
    // Each pull author's cached posts, trusted as the head is (a cache too short for the page
    // sends the page to the general path): from the process's memory, the others' whole sets
    // in round-trip 2 (at most AUTHOR_CACHE_POSTS ids each).
    const lists = await authorLists(deps, redis, authors);
    const merged = new Set(page);
    for (const list of lists) {
      // The whole set: complete when the sentinel is in it, its size is its length.
      const sentinel = list.includes(HEAD_SENTINEL) ? HEAD_SENTINEL : null;
      const theirs = trusted(r, list, list.length, sentinel, config.AUTHOR_CACHE_POSTS);
      if (!theirs) return null;
      for (const id of theirs.slice(0, want)) merged.add(id);
    }
    // Newest first is the highest id first: an id's high bits are its millisecond.
    page = [...merged].sort((a, b) => (idBefore(a, b) ? 1 : a === b ? 0 : -1)).slice(0, want);
  }
  const ids = page.slice(0, limit);
  // Round-trip 2: the page's counts and the reader's liked flags.
  const liked = likes ? likedSetQuery(viewerId, ids) : null;
  const [stats, flags] = await Promise.all([
    ids.length ? redis.mget(...ids.map(keys.postStats)) : [],
    liked ? redis.call(...liked) : null,
  ]);
  return skeletonOf(ids, page.length > limit, stats, flags as number[] | null);
}

/**
 * Pull authors' cached post sets, newest first with their markers: from memory, else one ZRANGE
 * each in one round-trip; a complete one fetched is kept in memory unless an invalidation came
 * while it was read.
 */
async function authorLists(
  deps: Deps,
  redis: Redis,
  authors: readonly string[],
): Promise<readonly string[][]> {
  const memory = liveMemory(deps);
  const generation = memory?.generation() ?? 0;
  return Promise.all(
    authors.map(async (a) => {
      const kept = memory?.authorPosts.get(a);
      if (kept) return kept.ids as string[];
      const ids = (await redis.call("zrange", keys.authorPosts(a), "0", "-1", "REV")) as string[];
      if (ids.includes(HEAD_SENTINEL)) memory?.fill(memory.authorPosts, generation, a, { ids });
      return ids;
    }),
  );
}

/** Whether id a is lower than id b (decimal strings of positive integers). */
const idBefore = (a: string, b: string) => (a.length !== b.length ? a.length < b.length : a < b);

/**
 * The post ids of an id set's ZRANGE past the cursor (markers dropped, and posts of its ms not
 * after it), or null when the set cannot answer the page: not complete (no sentinel: from the
 * top it is in the range, past a cursor `sentinel` is its ZSCORE), or full (`cap` posts, with
 * older ones only in PostgreSQL) and running out before the page does.
 */
function trusted(
  r: PageRequest,
  range: readonly string[],
  card: number,
  sentinel: string | null,
  cap: number,
): string[] | null {
  if (r.cursor ? sentinel === null : !range.includes(HEAD_SENTINEL)) return null;
  const cursor = r.cursor;
  const past = range.filter((id) => !isIdSetMarker(id) && (!cursor || idBefore(id, cursor.id)));
  return past.length < r.want && card - 1 >= cap ? null : past;
}

function skeletonOf(
  ids: string[],
  hasMore: boolean,
  stats: readonly (string | null)[],
  flags: readonly number[] | null,
): FeedSkeleton {
  const counts = new Map<string, number>();
  ids.forEach((id, i) => {
    const c = stats[i];
    if (c !== null && c !== undefined) counts.set(id, Number(c));
  });
  // The liked set's two markers, then one flag per id: trusted when complete and not over cap.
  const liked =
    flags && flags[0] === 1 && flags[1] !== 1 ? new Set(ids.filter((_, i) => flags[i + 2] === 1)) : undefined;
  const last = ids[ids.length - 1];
  return {
    ids,
    nextCursor: hasMore && last ? encodeCursor("feed", { id: last, at: timestampOf(last) }) : null,
    known: { counts, liked },
  };
}
