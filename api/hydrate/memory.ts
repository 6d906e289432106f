import { LRUCache } from "lru-cache";
import {
  type CachedPost,
  type CachedUser,
  dropCachedBodies,
  INVALIDATION_CHANNEL,
} from "../../core/cache.ts";
import type { Config } from "../../core/config.ts";
import { duplicateRedis, type RedisClient } from "../../core/redis.ts";

// Immutable data in the process: post bodies and author profiles, presigned media URLs and each
// post's rendered JSON, in bounded LRUs of each api process; and pull authors' recent post ids,
// which change only when they post. A fully cached page then reads only
// what changes (like counts, liked flags) from Redis. Bodies change rarely (an image attached, an
// avatar replaced, a thumbnail made): whoever changes one publishes its id on
// INVALIDATION_CHANNEL (core/cache.ts dropCachedBodies) and every process drops its copy. A TTL
// bounds what a lost message could leave stale, and a subscriber that reconnects (it may have
// missed messages) empties everything.

export interface MemoryCache {
  posts: LRUCache<string, CachedPost>;
  users: LRUCache<string, CachedUser>;
  /** Presigned GET URLs by object key, reused for a third of their lifetime. */
  urls: LRUCache<string, { url: string; until: number }>;
  /** A post's JSON without like_count and liked_by_me, for the body and author it was made of. */
  rendered: LRUCache<string, Rendered>;
  /**
   * A pull author's cached posts (their Redis set, markers included, newest first), kept only
   * when complete. Every reader of the author reads the same list: in memory, a page of a reader
   * of eight pull authors (the 1M seed's average) no longer sends sixteen commands for them. Dropped by "a:<author id>",
   * which the projector publishes after each post of theirs (core/cache.ts pushToAuthorCache).
   */
  authorPosts: LRUCache<string, { ids: readonly string[] }>;
  /**
   * Counts invalidations. A fill started before one may carry what it dropped, so it is not
   * stored (the next read fetches again): see `fill`.
   */
  generation(): number;
  /** Stores values fetched while `generation()` was `since`, unless something was dropped since. */
  fill<V extends object>(cache: LRUCache<string, V>, since: number, id: string, value: V): void;
  /** Applies one INVALIDATION_CHANNEL message ("p:<post id>", "u:<user id>" or "a:<author id>"). */
  invalidate(message: string): void;
  clear(): void;
  /**
   * Subscribes to INVALIDATION_CHANNEL on a connection of its own, again after every reconnect;
   * resolves once first subscribed. Until then (and while disconnected) nothing is served from
   * memory: see `subscribed`.
   */
  subscribe(redis: RedisClient): Promise<void>;
  /** Whether memory may be used now: subscribed, and not disconnected since. */
  subscribed(): boolean;
  close(): void;
}

export interface Rendered {
  post: CachedPost;
  author: CachedUser;
  /** `{"id":…,"image":…,` : the post's JSON up to its two changing fields. */
  json: string;
  /** Until when its presigned URLs may be served (ms since the epoch); Infinity without any. */
  until: number;
}

/** A clock for lru-cache's TTLs (tests pass their own). */
export interface Clock {
  now(): number;
}

/**
 * performance.now() read every COARSE_CLOCK_MS rather than on every lookup: a page makes about
 * thirty lookups, and reading the clock for each cost 11 µs of a cached read (perf/bench-causes.md).
 * The TTL is a backstop of minutes, so 100 ms more is nothing.
 */
const COARSE_CLOCK_MS = 100;

function coarseClock(): Clock & { stop(): void } {
  let now = performance.now();
  const timer = setInterval(() => {
    now = performance.now();
  }, COARSE_CLOCK_MS);
  timer.unref?.();
  return { now: () => now, stop: () => clearInterval(timer) };
}

export function createMemoryCache(config: Config, clock?: Clock): MemoryCache {
  const ttl = config.MEMORY_CACHE_TTL_SECONDS * 1000;
  const coarse = clock ? null : coarseClock();
  // ttlResolution 0: ask the clock on every lookup; the coarse clock is already cheap to ask.
  const opts = { ttl, ttlResolution: 0, perf: clock ?? (coarse as Clock) };
  const posts = new LRUCache<string, CachedPost>({ max: config.MEMORY_CACHE_POSTS, ...opts });
  const users = new LRUCache<string, CachedUser>({ max: config.MEMORY_CACHE_USERS, ...opts });
  const urls = new LRUCache<string, { url: string; until: number }>({ max: config.MEMORY_CACHE_POSTS });
  const rendered = new LRUCache<string, Rendered>({ max: config.MEMORY_CACHE_POSTS, ...opts });
  const authorPosts = new LRUCache<string, { ids: readonly string[] }>({
    max: config.MEMORY_CACHE_USERS,
    ...opts,
  });
  let generation = 0;
  let subscriber: RedisClient | null = null;
  let listening = false;
  const clear = () => {
    generation++;
    posts.clear();
    users.clear();
    rendered.clear();
    authorPosts.clear();
  };
  const memory: MemoryCache = {
    posts,
    users,
    urls,
    rendered,
    authorPosts,
    generation: () => generation,
    fill(cache, since, id, value) {
      if (since === generation) cache.set(id, value);
    },
    invalidate(message) {
      generation++;
      const id = message.slice(2);
      if (message.startsWith("p:")) {
        posts.delete(id);
        rendered.delete(id);
      } else if (message.startsWith("u:")) {
        // The user's posts' rendered JSON holds the old profile: it is checked against the
        // cached author when used, so dropping the user is enough.
        users.delete(id);
      } else if (message.startsWith("a:")) authorPosts.delete(id);
      else clear();
    },
    clear,
    subscribe(redis) {
      const sub = duplicateRedis(redis);
      subscriber = sub;
      sub.on("message", (channel: string, message: string) => {
        if (channel === INVALIDATION_CHANNEL) memory.invalidate(message);
      });
      // While the connection is down messages are lost: nothing is served from memory until
      // it is subscribed again, and then from an empty memory.
      sub.on("close", () => {
        listening = false;
      });
      sub.on("error", () => {});
      return new Promise<void>((resolve) => {
        const listen = () => {
          sub.subscribe(INVALIDATION_CHANNEL).then(
            () => {
              if (subscriber !== sub) return;
              clear();
              listening = true;
              resolve();
            },
            () => {}, // the next "ready" tries again
          );
        };
        sub.on("ready", listen);
        if (sub.status === "ready") listen();
      });
    },
    subscribed: () => listening,
    close() {
      listening = false;
      coarse?.stop();
      subscriber?.disconnect();
      subscriber = null;
    },
  };
  return memory;
}

/** The process's memory, when it may be used now (subscribed to invalidations), else nothing. */
export const liveMemory = (deps: { memory?: MemoryCache }): MemoryCache | undefined =>
  deps.memory?.subscribed() ? deps.memory : undefined;

/**
 * This process changed a post body or a user: drops them from Redis, tells the other processes,
 * and drops this process's copies now rather than when its own message comes back.
 */
export async function dropBodies(
  deps: { redis: RedisClient; memory?: MemoryCache },
  changed: { posts?: readonly string[]; users?: readonly string[] },
): Promise<void> {
  for (const id of changed.posts ?? []) deps.memory?.invalidate(`p:${id}`);
  for (const id of changed.users ?? []) deps.memory?.invalidate(`u:${id}`);
  await dropCachedBodies(deps.redis, changed);
}
