import {
  type CachedPost,
  type CachedUser,
  cacheLikeCounts,
  cachePosts,
  cacheUsers,
} from "../../core/cache.ts";
import {
  beginLikedSetBuild,
  finishLikedSetBuild,
  type LikedSetState,
  likedSetQuery,
  parseLikedSet,
} from "../../core/liked-set.ts";
import { mgetMany, mgetManyWith } from "../../core/redis.ts";
import { redisLooksDown, withRedis } from "../../core/redis-breaker.ts";
import { keys } from "../../core/redis-keys.ts";
import { hydrationRows } from "../../db/feed.ts";
import type { Deps } from "../deps.ts";
import { liveMemory } from "./memory.ts";
import { mediaUrls, postMediaKeys, presentPost, userMediaKeys, type WirePost } from "./present.ts";
import { renderPosts } from "./render.ts";

// Hydration: ids → full posts, in a fixed number of round-trips whatever the page size (atproto's
// skeleton → hydration → presentation). Post bodies and authors come from the process's memory
// first (api/hydrate/memory.ts), then Redis (one MGET of bodies and counts with the viewer's
// liked set asked in the same round-trip, then one MGET of authors; on a cluster one per slot,
// sent together), then one PostgreSQL statement for everything Redis missed, liked_by_me included
// when the liked set is not there (core/liked-set.ts). A page found entirely in memory and Redis
// sends no PostgreSQL statement; one whose counts and liked flags the feed's skeleton already
// read sends nothing at all when its bodies are in memory.

export interface HydratedPost {
  post: CachedPost;
  author: CachedUser;
  likeCount: number;
  likedByMe: boolean;
}

/** What the caller already read: the feed's cached skeleton reads counts and liked flags too. */
export interface KnownState {
  counts?: ReadonlyMap<string, number>;
  liked?: ReadonlySet<string>;
}

export async function loadPosts(
  deps: Deps,
  viewerId: string | null,
  ids: readonly string[],
  known: KnownState = {},
): Promise<HydratedPost[]> {
  if (ids.length === 0) return [];
  const memory = liveMemory(deps);
  const generation = memory?.generation() ?? 0;
  const ttl = deps.config.CACHE_TTL_SECONDS;
  const likesCap = deps.config.LIKES_CACHE_MAX;
  const posts = new Map<string, CachedPost>();
  const counts = new Map<string, number>(known.counts ?? []);
  const users = new Map<string, CachedUser>();
  // Read from Redis or PostgreSQL, for the memory.
  const fetched = { posts: [] as CachedPost[], users: [] as CachedUser[] };

  if (memory)
    for (const id of ids) {
      const p = memory.posts.get(id);
      if (p) posts.set(id, p);
    }
  const bodyIds = ids.filter((id) => !posts.has(id));
  const countIds = ids.filter((id) => !counts.has(id));
  const likedQuery = viewerId && likesCap > 0 && !known.liked ? [likedSetQuery(viewerId, ids)] : [];
  // With Redis down every lookup is a miss and PostgreSQL answers them all (one statement still).
  const cacheKeys = [...bodyIds.map(keys.post), ...countIds.map(keys.postStats)];
  const round1 =
    cacheKeys.length || likedQuery.length
      ? await withRedis(
          deps.redis,
          () => mgetManyWith(deps.redis, cacheKeys, likedQuery),
          () => ({ values: cacheKeys.map(() => null), replies: [] }),
        )
      : { values: [], replies: [] };
  const likedSet: LikedSetState = known.liked
    ? { kind: "complete", liked: new Set(known.liked) }
    : likedQuery.length
      ? parseLikedSet(round1.replies[0], ids)
      : { kind: "missing" };
  // A missing set is built from the statement below; the build must begin before it reads the
  // likes. Sent now, it shares the authors' round-trip.
  const likedBuild =
    viewerId && likedQuery.length && likedSet.kind === "missing" && !redisLooksDown(deps.redis)
      ? beginLikedSetBuild(deps.redis, viewerId).catch(() => null)
      : null;
  bodyIds.forEach((id, i) => {
    const raw = round1.values[i];
    if (!raw) return;
    const p = JSON.parse(raw) as CachedPost;
    posts.set(id, p);
    fetched.posts.push(p);
  });
  countIds.forEach((id, i) => {
    const c = round1.values[bodyIds.length + i];
    if (c !== null && c !== undefined) counts.set(id, Number(c));
  });

  const authors = [...new Set([...posts.values()].map((p) => p.author_id))];
  if (memory)
    for (const id of authors) {
      const u = memory.users.get(id);
      if (u) users.set(id, u);
    }
  const authorMiss = authors.filter((id) => !users.has(id));
  if (authorMiss.length) {
    const userKeys = authorMiss.map(keys.user);
    const rawUsers = await withRedis(
      deps.redis,
      () => mgetMany(deps.redis, userKeys),
      () => userKeys.map(() => null),
    );
    authorMiss.forEach((id, i) => {
      const raw = rawUsers[i];
      if (!raw) return;
      const u = JSON.parse(raw) as CachedUser;
      users.set(id, u);
      fetched.users.push(u);
    });
  }

  const buildToken = await likedBuild;

  const postMiss = ids.filter((id) => !posts.has(id));
  const statMiss = ids.filter((id) => !counts.has(id));
  const userMiss = authors.filter((id) => !users.has(id));
  let liked: ReadonlySet<string> = likedSet.kind === "complete" ? likedSet.liked : new Set<string>();
  const likedMiss = viewerId !== null && likedSet.kind !== "complete";
  if (postMiss.length || statMiss.length || userMiss.length || likedMiss) {
    const rows = await hydrationRows(deps.plannedSql ?? deps.sql, {
      viewerId,
      postIds: postMiss,
      statIds: statMiss,
      userIds: userMiss,
      likedIds: likedMiss ? ids : [],
      // One more than the cap tells the build the viewer is over it.
      likedAllLimit: buildToken ? likesCap + 1 : 0,
    });
    for (const p of rows.posts) posts.set(p.id, p);
    for (const u of rows.users) users.set(u.id, u);
    fetched.posts.push(...rows.posts);
    fetched.users.push(...rows.users);
    const foundStats = new Map(rows.stats.map((s) => [s.post_id, s.like_count]));
    // A post nobody liked has no post_stats row: its count is a cacheable zero.
    const statRows = statMiss
      .filter((id) => posts.has(id))
      .map((id) => ({ post_id: id, like_count: foundStats.get(id) ?? 0 }));
    for (const s of statRows) counts.set(s.post_id, s.like_count);
    if (likedMiss) liked = new Set(rows.liked);
    if (buildToken) await deps.hooks?.beforeLikedSetFinish?.();
    // Cache fills are best effort: a failed write costs the next reader a query, nothing more.
    if (!redisLooksDown(deps.redis))
      await Promise.all([
        cachePosts(deps.redis, rows.posts, ttl),
        cacheUsers(deps.redis, rows.users, ttl),
        cacheLikeCounts(deps.redis, statRows, ttl),
        viewerId && buildToken
          ? finishLikedSetBuild(deps.redis, viewerId, buildToken, rows.liked_all, likesCap, ttl)
          : null,
      ]).catch(() => {});
  }
  // Kept in memory unless something was invalidated while they were being read.
  if (memory) {
    for (const p of fetched.posts) memory.fill(memory.posts, generation, p.id, p);
    for (const u of fetched.users) memory.fill(memory.users, generation, u.id, u);
  }

  const out: HydratedPost[] = [];
  for (const id of ids) {
    const post = posts.get(id);
    const author = post && users.get(post.author_id);
    if (!post || !author) continue; // a post that no longer exists drops out of the page
    out.push({
      post,
      author,
      likeCount: Math.max(0, counts.get(id) ?? 0),
      likedByMe: liked.has(id),
    });
  }
  return out;
}

/** Full posts as objects, for routes that answer one post or a few. */
export async function hydratePosts(
  deps: Deps,
  viewerId: string | null,
  ids: readonly string[],
): Promise<WirePost[]> {
  const loaded = await loadPosts(deps, viewerId, ids);
  const urls = await mediaUrls(deps, [
    ...loaded.flatMap((h) => [...userMediaKeys(h.author), ...postMediaKeys(h.post)]),
  ]);
  return loaded.map((h) => presentPost(h.post, h.author, h, urls));
}

/** Full posts as JSON text, each rendered once per body (api/hydrate/render.ts). */
export async function hydrateRendered(
  deps: Deps,
  viewerId: string | null,
  ids: readonly string[],
  known: KnownState = {},
): Promise<string[]> {
  return renderPosts(deps, await loadPosts(deps, viewerId, ids, known));
}
