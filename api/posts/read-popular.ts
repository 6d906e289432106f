import { POPULAR_SIZE } from "../../core/cache.ts";
import { withRedis } from "../../core/redis-breaker.ts";
import { keys } from "../../core/redis-keys.ts";
import { popularPosts } from "../../db/feed.ts";
import type { Deps } from "../deps.ts";
import { hydratePosts } from "../hydrate/hydrate-posts.ts";
import type { WirePost } from "../hydrate/present.ts";

// Popular posts: the most liked posts created within POPULAR_WINDOW_HOURS. The projector keeps
// the sorted set current on like events; a miss rebuilds it from post_stats.

const POPULAR_TTL_SECONDS = 300;

export async function readPopular(deps: Deps, viewerId: string, limit: number): Promise<WirePost[]> {
  // null: Redis is down, the ranking comes from PostgreSQL and is not cached.
  let ids: string[] | null = await withRedis(
    deps.redis,
    () => deps.redis.zrange(keys.popular, "0", String(limit - 1), "REV"),
    () => null,
  );
  if (ids === null || (ids.length === 0 && (await deps.redis.exists(keys.popular)) === 0)) {
    const redisUp = ids !== null;
    const rows = await popularPosts(deps.sql, deps.config.POPULAR_WINDOW_HOURS, POPULAR_SIZE);
    if (redisUp && rows.length > 0) {
      const args = rows.flatMap((r) => [r.like_count, r.post_id]);
      await deps.redis
        .multi()
        .del(keys.popular)
        .zadd(keys.popular, ...args)
        .expire(keys.popular, POPULAR_TTL_SECONDS)
        .exec();
    }
    ids = rows.slice(0, limit).map((r) => r.post_id);
  }
  return hydratePosts(deps, viewerId, ids);
}
