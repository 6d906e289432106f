import { type CursorPosition, encodeCursor } from "../../core/cursor.ts";
import { timestampOf } from "../../core/ids.ts";
import { likedSetQuery } from "../../core/liked-set.ts";
import { isCluster, luaScript, type Redis, runScript } from "../../core/redis.ts";
import { redisLooksDown } from "../../core/redis-breaker.ts";
import { HEAD_SENTINEL, isIdSetMarker, keys, LIKED_COMPLETE, LIKED_OVER_CAP } from "../../core/redis-keys.ts";
import type { Deps } from "../deps.ts";
import type { FeedSkeleton } from "./skeleton.ts";

// A fully cached feed page in two Redis round-trips (one Redis, not a cluster): the reader's head
// past the cursor with what says it may be trusted, then the page's like counts and the reader's
// liked flags. A reader who follows pull authors takes a script instead, which reads the head,
// each pull author's cached posts, merges them and reads the page's state in one more call.
// Either answers only when every cache it needs is complete and answers the page by itself;
// otherwise (a head or author cache missing or being rebuilt, no pull list, the first read of
// the day, a page deeper than the caches) the page takes the general path (skeleton.ts), which
// rebuilds what is missing. So it reads what that path reads and decides as it does.

// KEYS: head, pull list, seen mark, liked set.
// ARGV: max score ("+inf", or the cursor's ms: its own ms may hold posts before it), cursor id
// ("" without a cursor), want (limit + 1), how many to range per set, FEED_CACHE_ITEMS,
// AUTHOR_CACHE_POSTS, LIKED_COMPLETE, LIKED_OVER_CAP, liked sets on (1/0). It writes nothing:
// the head's TTL is renewed by the general path on each day's first read.
// A set's score is its post's ms, the id's high bits, so "after the cursor" is "a lower id".
// Ids are decimal strings of up to 19 digits, past a double's precision: they are compared as
// strings, by length first. No WITHSCORES: formatting scores was most of a ZRANGE's cost.
const PAGE = luaScript(`
local maxScore, curId = ARGV[1], ARGV[2]
local want, n = tonumber(ARGV[3]), tonumber(ARGV[4])
local function idLess(a, b)
  if #a ~= #b then return #a < #b end
  return a < b
end
local seen, items, sources = {}, {}, 0
local function take(key)
  if not redis.call('ZSCORE', key, '0') then return nil end
  sources = sources + 1
  local past = 0
  for _, id in ipairs(redis.call('ZRANGE', key, maxScore, '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, n)) do
    if id ~= '0' and string.byte(id, 1) ~= 45 and (curId == '' or idLess(id, curId)) then
      past = past + 1
      if not seen[id] then
        seen[id] = true
        items[#items + 1] = id
      end
    end
  end
  return past, redis.call('ZCARD', key) - 1
end
if redis.call('EXISTS', KEYS[3]) == 0 then return 0 end
local pull = redis.call('GET', KEYS[2])
if not pull then return 0 end
local past, size = take(KEYS[1])
if not past then return 0 end
if past < want and size >= tonumber(ARGV[5]) then return 0 end
for _, author in ipairs(cjson.decode(pull)) do
  local p, s = take('author:posts:{' .. author .. '}')
  if not p then return 0 end
  if p < want and s >= tonumber(ARGV[6]) then return 0 end
end
-- Newest first is highest id first: an id's high bits are its millisecond. One set is in that
-- order already.
if sources > 1 then
  table.sort(items, function(a, b) return idLess(b, a) end)
end
local page = math.min(#items, want)
local out = { 1, page }
for i = 1, page do out[#out + 1] = items[i] end
local shown = math.min(page, want - 1)
if shown > 0 then
  local statKeys = {}
  for i = 1, shown do statKeys[i] = 'post:stats:{' .. items[i] .. '}' end
  for _, c in ipairs(redis.call('MGET', unpack(statKeys))) do out[#out + 1] = c or '' end
end
if ARGV[9] == '1' then
  local args = { ARGV[7], ARGV[8] }
  for i = 1, shown do args[#args + 1] = items[i] end
  for _, f in ipairs(redis.call('SMISMEMBER', KEYS[4], unpack(args))) do out[#out + 1] = f end
end
return out
`);

/** Extra ids read past a cursor: its own ms may hold posts that are not after it. */
const SAME_MS_SLACK = 50;

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
  const [range, card, [pull, seen], sentinel] = await Promise.all([
    redis.zrange(head, max, "-inf", "BYSCORE", "REV", "LIMIT", 0, n),
    redis.zcard(head),
    redis.mget(keys.pullFollows(viewerId), keys.readerSeen(viewerId)),
    cursor ? redis.zscore(head, HEAD_SENTINEL) : null,
  ]);
  const ready = cursor ? sentinel !== null : range.includes(HEAD_SENTINEL);
  // No seen mark: the first read of the day, which the general path records (and which renews
  // the head's TTL there: this path never writes).
  if (!ready || pull === null || seen === null) return null;
  // Pull authors' posts are merged in by the script, in one more round-trip that reads the page's
  // counts and liked flags too.
  if (pull !== "[]") return scripted(r);
  const past = range.filter((id) => !isIdSetMarker(id) && (!cursor || idBefore(id, cursor.id)));
  if (past.length < want && card - 1 >= config.FEED_CACHE_ITEMS) return null;
  const page = past.slice(0, want);
  const ids = page.slice(0, limit);
  // Round-trip 2: the page's counts and the reader's liked flags.
  const liked = likes ? likedSetQuery(viewerId, ids) : null;
  const [stats, flags] = await Promise.all([
    ids.length ? redis.mget(...ids.map(keys.postStats)) : [],
    liked ? redis.call(...liked) : null,
  ]);
  return skeletonOf(ids, page.length > limit, stats, flags as number[] | null);
}

/** Whether id a is lower than id b (decimal strings of positive integers). */
const idBefore = (a: string, b: string) => (a.length !== b.length ? a.length < b.length : a < b);

function skeletonOf(
  ids: string[],
  hasMore: boolean,
  stats: readonly (string | null)[],
  flags: readonly number[] | null,
): FeedSkeleton {
  const counts = new Map<string, number>();
  ids.forEach((id, i) => {
    const c = stats[i];
    if (c !== "" && c !== null && c !== undefined) counts.set(id, Number(c));
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

/** A page with pull authors: the script reads and merges every set and the page's state. */
async function scripted(r: PageRequest): Promise<FeedSkeleton | null> {
  const { deps, redis, viewerId, limit, cursor, want, likes } = r;
  const { config } = deps;
  const reply = await runScript(
    redis,
    PAGE,
    [
      keys.feedHead(viewerId),
      keys.pullFollows(viewerId),
      keys.readerSeen(viewerId),
      keys.likedPosts(viewerId),
    ],
    [
      cursor ? cursor.at : "+inf",
      cursor ? cursor.id : "",
      want,
      rangeSize(want, cursor),
      config.FEED_CACHE_ITEMS,
      config.AUTHOR_CACHE_POSTS,
      LIKED_COMPLETE,
      LIKED_OVER_CAP,
      likes ? 1 : 0,
    ],
  );
  if (!Array.isArray(reply) || reply[0] !== 1) return null;
  // 1, the page's size (up to want), its ids, a count per shown id ("" unknown), then the
  // liked flags: the two markers, then one per shown id.
  const size = Number(reply[1]);
  const page = reply.slice(2, 2 + size) as string[];
  const ids = page.slice(0, limit);
  const stats = reply.slice(2 + size, 2 + size + ids.length) as string[];
  const flags = likes ? (reply.slice(2 + size + ids.length) as number[]) : null;
  return skeletonOf(ids, page.length > limit, stats, flags);
}
