import { POPULAR_SIZE } from "../../core/cache.ts";
import { withRedis } from "../../core/redis-breaker.ts";
import { keys, POPULAR_MARKER } from "../../core/redis-keys.ts";
import { popularPosts } from "../../db/feed.ts";
import type { Deps } from "../deps.ts";
import { hydrateRendered } from "../hydrate/hydrate-posts.ts";
import { jsonWithEtag, renderPage } from "../hydrate/render.ts";
import type { Viewer } from "../plugins/auth.ts";
import type { ResponseSet } from "../schemas.ts";

// Popular posts: the most liked posts created within POPULAR_WINDOW_HOURS. The projector keeps
// the sorted set current on like events; a miss rebuilds it from post_stats. A cached set always
// has a member (a post, or the marker of an empty ranking), so an empty ZRANGE is a miss.

const POPULAR_TTL_SECONDS = 300;

/** GET /posts/popular: the most liked recent posts, as ready JSON with an ETag. */
export async function readPopular(
  deps: Deps,
  viewer: Viewer,
  limit: number,
  request: Request,
  set: ResponseSet,
): Promise<Response> {
  const items = await hydrateRendered(deps, viewer.id, await popularIds(deps, limit));
  return jsonWithEtag(request, set, renderPage(items, null));
}

/** The ids of the most liked recent posts, most liked first. */
export async function popularIds(deps: Deps, limit: number): Promise<string[]> {
  // null: Redis is down, the ranking comes from PostgreSQL and is not cached.
  const cached: string[] | null = await withRedis(
    deps.redis,
    () => deps.redis.zrange(keys.popular, "0", String(limit - 1), "REV"),
    () => null,
  );
  if (cached && cached.length > 0) return cached.filter((id) => id !== POPULAR_MARKER);
  const rows = await popularPosts(deps.sql, deps.config.POPULAR_WINDOW_HOURS, POPULAR_SIZE);
  if (cached) {
    // Cached even when nothing is liked, or every read would ask PostgreSQL until something is.
    const args = rows.length > 0 ? rows.flatMap((r) => [r.like_count, r.post_id]) : ["-inf", POPULAR_MARKER];
    // Through the breaker: Redis failing now costs the cache fill, not the answer in hand.
    await withRedis(
      deps.redis,
      () =>
        deps.redis
          .multi()
          .del(keys.popular)
          .zadd(keys.popular, ...args)
          .expire(keys.popular, POPULAR_TTL_SECONDS)
          .exec(),
      () => null,
    );
  }
  return rows.slice(0, limit).map((r) => r.post_id);
}
