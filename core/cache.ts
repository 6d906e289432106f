import type { Config } from "./config.ts";
import type { ImageVariants } from "./media.ts";
import {
  groupBySlot,
  isCluster,
  luaScript,
  type RedisClient,
  type RedisCommand,
  runCommands,
  runScript,
  throwFirstError,
} from "./redis.ts";
import { buildToken, HEAD_SENTINEL, keys } from "./redis-keys.ts";

// Caches shared by the api (readers) and the projector (which keeps them fresh on events).
// Every key gets a TTL; losing any of them costs a PostgreSQL query, never data.

export interface CachedPost {
  id: string;
  author_id: string;
  text: string;
  image_key: string | null;
  image_width: number | null;
  image_height: number | null;
  image_variants?: ImageVariants | null;
}

export interface CachedUser {
  id: string;
  handle: string;
  display_name: string;
  avatar_key: string | null;
  /** Absent from entries cached before thumbnails existed. */
  avatar_thumb_key?: string | null;
}

/** How many posts the popular set keeps. */
export const POPULAR_SIZE = 200;

export function headTtlSeconds(config: Config): number {
  return config.FEED_ACTIVE_DAYS * 86_400;
}

/**
 * Pushes a post onto the cached heads that exist, in one round-trip. A missing head means the
 * reader has not read lately (heads expire after FEED_ACTIVE_DAYS): it is left cold and rebuilt
 * from user_feed on the next read.
 */
const PUSH_IF_EXISTS = luaScript(`
local n = 0
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('ZADD', KEYS[i], ARGV[1], ARGV[2])
    redis.call('ZREMRANGEBYRANK', KEYS[i], 0, -(tonumber(ARGV[3]) + 2))
    n = n + 1
  end
end
return n`);

export async function pushToHeads(
  redis: RedisClient,
  userIds: readonly string[],
  post: { id: string; at: number },
  maxItems: number,
): Promise<number> {
  if (userIds.length === 0) return 0;
  const heads = userIds.map(keys.feedHead);
  // One script call per 1000 heads on a standalone Redis. A cluster runs a script only over keys
  // of one slot: one call per slot there, all at once (auto-pipelined, one write per node).
  const groups = isCluster(redis) ? groupBySlot(heads, (k) => k) : [heads];
  const calls: Promise<unknown>[] = [];
  for (const g of groups)
    for (let i = 0; i < g.length; i += 1000)
      calls.push(runScript(redis, PUSH_IF_EXISTS, g.slice(i, i + 1000), [post.at, post.id, maxItems]));
  return (await Promise.all(calls)).reduce<number>((n, r) => n + Number(r), 0);
}

/**
 * Same for the per-author caches of pull authors; then every api process drops its copy of the
 * author's list (api/hydrate/memory.ts), after the push so that one that reads again finds the
 * post. Published whether the set existed or not: a process may hold a list the set outlived.
 */
export async function pushToAuthorCache(
  redis: RedisClient,
  authorId: string,
  post: { id: string; at: number },
  maxItems: number,
) {
  const pushed = Number(
    await runScript(redis, PUSH_IF_EXISTS, [keys.authorPosts(authorId)], [post.at, post.id, maxItems]),
  );
  await redis.publish(INVALIDATION_CHANNEL, `a:${authorId}`);
  return pushed;
}

// Rebuilding a set races with the projector: a post pushed, or the set dropped (unfollow), while
// the reader was querying PostgreSQL must not be lost or undone by the reader's write. So a
// rebuild first creates the set with its own building marker (pushes land in it from then on),
// and afterwards merges its rows in only if that marker is still there: a set dropped meanwhile
// stays dropped, and the next read rebuilds it from newer rows. The marker is unique to the
// rebuild: with one shared marker, a rebuild whose set was dropped would find the marker of a
// later rebuild begun since, and write its rows (read before the drop) into that set.

const BEGIN_BUILD = luaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('ZADD', KEYS[1], '+inf', ARGV[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1`);

const FINISH_BUILD = luaScript(`
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], '+inf', ARGV[2])
-- ZADD by 200 pairs: one call per item cost Redis most of a cold read's time.
for i = 5, #ARGV, 400 do redis.call('ZADD', KEYS[1], unpack(ARGV, i, math.min(i + 399, #ARGV))) end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[3]) + 2))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return 1`);

/** Starts rebuilding a set: its token, or null when it exists already (complete, or another reader's build). */
export async function beginIdSetBuild(
  redis: RedisClient,
  key: string,
  buildSeconds = 30,
): Promise<string | null> {
  const token = buildToken();
  return Number(await runScript(redis, BEGIN_BUILD, [key], [token, buildSeconds])) === 1 ? token : null;
}

/** Completes a rebuild with rows read after it began; a no-op when the set was dropped meanwhile. */
export async function finishIdSetBuild(
  redis: RedisClient,
  key: string,
  token: string,
  items: readonly { id: string; at: number }[],
  maxItems: number,
  ttl: number,
): Promise<boolean> {
  const args: (string | number)[] = [token, HEAD_SENTINEL, maxItems, ttl];
  for (const it of items) args.push(it.at, it.id);
  return Number(await runScript(redis, FINISH_BUILD, [key], args)) === 1;
}

/**
 * Every api process keeps post bodies and users in memory (api/hydrate/memory.ts) and drops its
 * copy when one's id is published here: "p:<post id>" or "u:<user id>".
 */
export const INVALIDATION_CHANNEL = "feed:invalidate";

/**
 * A cached post body or user changed (an image attached, an avatar replaced, a thumbnail made):
 * drops it from Redis and tells every api process to drop its own copy, in one round-trip.
 */
export async function dropCachedBodies(
  redis: RedisClient,
  changed: { posts?: readonly string[]; users?: readonly string[] },
): Promise<void> {
  const posts = changed.posts ?? [];
  const users = changed.users ?? [];
  const dels = [
    ...posts.map((id): RedisCommand => ["del", keys.post(id)]),
    ...users.map((id): RedisCommand => ["del", keys.user(id)]),
  ];
  const publishes = [
    ...posts.map((id): RedisCommand => ["publish", INVALIDATION_CHANNEL, `p:${id}`]),
    ...users.map((id): RedisCommand => ["publish", INVALIDATION_CHANNEL, `u:${id}`]),
  ];
  // The DELs first: a process that drops its copy and reads again must not find the old one in
  // Redis. One pipeline keeps that order on one Redis; a cluster's commands go out unordered.
  if (isCluster(redis)) {
    throwFirstError(await runCommands(redis, dels));
    throwFirstError(await runCommands(redis, publishes));
  } else throwFirstError(await runCommands(redis, [...dels, ...publishes]));
}

export const encodePost = (p: CachedPost) => JSON.stringify(p);
export const encodeUser = (u: CachedUser) => JSON.stringify(u);

// Cache fills: one pipeline standalone, per-key SETs all at once on a cluster (runCommands).

export async function cacheUsers(
  redis: RedisClient,
  users: readonly CachedUser[],
  ttl: number,
): Promise<void> {
  await runCommands(
    redis,
    users.map((u) => ["set", keys.user(u.id), encodeUser(u), "EX", ttl]),
  );
}

export async function cachePosts(
  redis: RedisClient,
  posts: readonly CachedPost[],
  ttl: number,
): Promise<void> {
  await runCommands(
    redis,
    posts.map((p) => ["set", keys.post(p.id), encodePost(p), "EX", ttl]),
  );
}

export async function cacheLikeCounts(
  redis: RedisClient,
  counts: readonly { post_id: string; like_count: number }[],
  ttl: number,
) {
  await runCommands(
    redis,
    counts.map((c) => ["set", keys.postStats(c.post_id), String(c.like_count), "EX", ttl]),
  );
}
