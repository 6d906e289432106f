// Shared by the PostLiked and PostUnliked handlers.
import { POPULAR_SIZE } from "../../core/cache.ts";
import { timestampOf } from "../../core/ids.ts";
import { dropLikedSet, writeLikedSet } from "../../core/liked-set.ts";
import { luaScript, runScript } from "../../core/redis.ts";
import { keys } from "../../core/redis-keys.ts";
import { likeExists } from "../../db/graph.ts";
import { bumpPostStats, markProcessed, postLikeCount } from "../../db/projections.ts";
import type { HandlerDeps } from "./types.ts";

/** Raises or lowers a member of the popular set, only while the set is cached. */
const POPULAR_UPDATE = luaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  if tonumber(ARGV[1]) > 0 then redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2]) else redis.call('ZREM', KEYS[1], ARGV[2]) end
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[3]) + 1))
end
return 1`);

/** Moves a post's like count once per event; caches and popular posts follow. */
export async function applyLike(
  deps: HandlerDeps,
  eventId: string,
  postId: string,
  delta: 1 | -1,
): Promise<void> {
  const count = await deps.sql.begin(async (tx) =>
    (await markProcessed(tx, deps.group, eventId))
      ? bumpPostStats(tx, postId, delta)
      : postLikeCount(tx, postId),
  );
  // The cached count is dropped, not overwritten: two consumers finishing in either order can
  // never leave an older count behind. The popular set takes the committed count.
  await deps.redis.del(keys.postStats(postId));
  // Posts older than the window are not popular "now", however they are liked; the set also
  // expires every few minutes and is rebuilt from post_stats, which bounds any staleness.
  const inWindow = Date.now() - timestampOf(postId) < deps.config.POPULAR_WINDOW_HOURS * 3_600_000;
  if (inWindow) await runScript(deps.redis, POPULAR_UPDATE, [keys.popular], [count, postId, POPULAR_SIZE]);
}

/** Rounds of write-then-read before the handler gives up and drops the set. */
const CONVERGE_ROUNDS = 3;

/**
 * Brings the liker's cached liked set (when there is one) to the likes row as it stands now,
 * whatever the order or number of the events: write what the row says, read the row again, and
 * write again if it changed meanwhile (a concurrent handler or command may have written the
 * older state after this one read it; core/liked-set.ts has the argument). A Redis failure drops
 * the set; if even that fails, the event is retried.
 */
export async function convergeLikedSet(deps: HandlerDeps, userId: string, postId: string): Promise<void> {
  const { config, redis, sql } = deps;
  if (config.LIKES_CACHE_MAX === 0) return;
  try {
    let liked = await likeExists(sql, userId, postId);
    for (let round = 0; round < CONVERGE_ROUNDS; round++) {
      const r = await writeLikedSet(
        redis,
        userId,
        postId,
        liked,
        config.LIKES_CACHE_MAX,
        config.CACHE_TTL_SECONDS,
      );
      // No set (or none any more): nothing that could be left wrong.
      if (r !== "applied") return;
      const now = await likeExists(sql, userId, postId);
      if (now === liked) return;
      liked = now;
    }
    await dropLikedSet(redis, userId);
  } catch (e) {
    const dropped = await dropLikedSet(redis, userId).then(
      () => true,
      () => false,
    );
    if (!dropped) throw e;
  }
}
