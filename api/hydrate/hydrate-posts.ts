import {
  type CachedPost,
  type CachedUser,
  cacheLikeCounts,
  cachePosts,
  cacheUsers,
} from "../../core/cache.ts";
import { timestampOf } from "../../core/ids.ts";
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
import { mediaUrls, presentPost, userMediaKeys, type WirePost } from "./present.ts";

// Hydration: ids → full posts, in a fixed number of round-trips whatever the page size (atproto's
// skeleton → hydration → presentation). Redis first (one MGET of bodies and counts with the
// viewer's liked set asked in the same round-trip, then one MGET of authors; on a cluster one per
// slot, sent together), then one PostgreSQL statement for everything Redis missed, liked_by_me
// included when the liked set is not there (core/liked-set.ts). A page found entirely in Redis
// sends no PostgreSQL statement.

export async function hydratePosts(
  deps: Deps,
  viewerId: string | null,
  ids: readonly string[],
): Promise<WirePost[]> {
  if (ids.length === 0) return [];
  const ttl = deps.config.CACHE_TTL_SECONDS;
  const likesCap = deps.config.LIKES_CACHE_MAX;
  const likedQuery = viewerId && likesCap > 0 ? [likedSetQuery(viewerId, ids)] : [];
  // With Redis down every lookup is a miss and PostgreSQL answers them all (one statement still).
  const cacheKeys = [...ids.map(keys.post), ...ids.map(keys.postStats)];
  const round1 = await withRedis(
    deps.redis,
    () => mgetManyWith(deps.redis, cacheKeys, likedQuery),
    () => ({ values: cacheKeys.map(() => null), replies: [] }),
  );
  const raw = round1.values;
  const likedSet: LikedSetState = likedQuery.length
    ? parseLikedSet(round1.replies[0], ids)
    : { kind: "missing" };
  // A missing set is built from the statement below; the build must begin before it reads the
  // likes. Sent now, it shares the authors' round-trip.
  const likedBuild =
    viewerId && likedQuery.length && likedSet.kind === "missing" && !redisLooksDown(deps.redis)
      ? beginLikedSetBuild(deps.redis, viewerId).catch(() => null)
      : null;
  const posts = new Map<string, CachedPost>();
  const counts = new Map<string, number>();
  ids.forEach((id, i) => {
    const p = raw[i];
    if (p) posts.set(id, JSON.parse(p) as CachedPost);
    const c = raw[ids.length + i];
    if (c !== null && c !== undefined) counts.set(id, Number(c));
  });

  const knownAuthors = [...new Set([...posts.values()].map((p) => p.author_id))];
  const users = new Map<string, CachedUser>();
  if (knownAuthors.length) {
    const userKeys = knownAuthors.map(keys.user);
    const rawUsers = await withRedis(
      deps.redis,
      () => mgetMany(deps.redis, userKeys),
      () => userKeys.map(() => null),
    );
    knownAuthors.forEach((id, i) => {
      const u = rawUsers[i];
      if (u) users.set(id, JSON.parse(u) as CachedUser);
    });
  }

  const buildToken = await likedBuild;

  const postMiss = ids.filter((id) => !posts.has(id));
  const statMiss = ids.filter((id) => !counts.has(id));
  const userMiss = knownAuthors.filter((id) => !users.has(id));
  let liked = likedSet.kind === "complete" ? likedSet.liked : new Set<string>();
  const likedMiss = viewerId !== null && likedSet.kind !== "complete";
  if (postMiss.length || statMiss.length || userMiss.length || likedMiss) {
    const rows = await hydrationRows(deps.hydrationSql ?? deps.sql, {
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

  const urls = await mediaUrls(deps, [
    ...[...users.values()].flatMap(userMediaKeys),
    ...ids.flatMap((id) => [posts.get(id)?.image_key, posts.get(id)?.image_variants?.["320"]?.key]),
  ]);
  const out: WirePost[] = [];
  for (const id of ids) {
    const p = posts.get(id);
    const author = p && users.get(p.author_id);
    if (!p || !author) continue; // a post that no longer exists drops out of the page
    out.push(
      presentPost(
        deps,
        p,
        author,
        { at: timestampOf(id), likeCount: counts.get(id) ?? 0, likedByMe: liked.has(id) },
        urls,
      ),
    );
  }
  return out;
}
