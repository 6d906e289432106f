// Shared by the PostLiked and PostUnliked handlers, and their batch handler (a read's worth of
// both kinds at once).
import { POPULAR_SIZE } from "../../core/cache.ts";
import type { EventOf } from "../../core/events.ts";
import { timestampOf } from "../../core/ids.ts";
import { dropLikedSet, writeLikedSet } from "../../core/liked-set.ts";
import { luaScript, runCommands, runScript, throwFirstError } from "../../core/redis.ts";
import { keys } from "../../core/redis-keys.ts";
import { likesStanding } from "../../db/graph.ts";
import { applyLikeDeltas } from "../../db/projections.ts";
import type { BatchHandler, HandlerDeps } from "./types.ts";

/** Raises or lowers a member of the popular set, only while the set is cached. */
const POPULAR_UPDATE = luaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  if tonumber(ARGV[1]) > 0 then redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2]) else redis.call('ZREM', KEYS[1], ARGV[2]) end
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[3]) + 1))
end
return 1`);

/** One like or unlike event's change to a post's count. */
export interface LikeDelta {
  eventId: string;
  postId: string;
  delta: 1 | -1;
}

/**
 * Moves posts' like counts once per event, in one statement for the lot (db/projections.ts
 * applyLikeDeltas); caches and popular posts follow.
 */
export async function applyLikes(deps: HandlerDeps, events: readonly LikeDelta[]): Promise<void> {
  const counts = await applyLikeDeltas(deps.sql, deps.group, events);
  // The cached count is dropped, not overwritten: two consumers finishing in either order can
  // never leave an older count behind. The popular set takes the committed count.
  throwFirstError(
    await runCommands(
      deps.redis,
      counts.map((c) => ["del", keys.postStats(c.post_id)]),
    ),
  );
  // Posts older than the window are not popular "now", however they are liked; the set also
  // expires every few minutes and is rebuilt from post_stats, which bounds any staleness.
  const windowMs = deps.config.POPULAR_WINDOW_HOURS * 3_600_000;
  await Promise.all(
    counts
      .filter((c) => Date.now() - timestampOf(c.post_id) < windowMs)
      .map((c) =>
        runScript(deps.redis, POPULAR_UPDATE, [keys.popular], [c.like_count, c.post_id, POPULAR_SIZE]),
      ),
  );
}

/** Rounds of write-then-read before the handler gives up and drops the set. */
const CONVERGE_ROUNDS = 3;

/** A liker and the post whose like changed. */
export interface LikePair {
  userId: string;
  postId: string;
}

const pairKey = (p: LikePair) => `${p.userId}:${p.postId}`;

/**
 * Brings the likers' cached liked sets (where there are some) to the likes rows as they stand
 * now, whatever the order or number of the events: write what each row says, read the rows
 * again, and write again those that changed meanwhile (a concurrent handler or command may have
 * written the older state after this one read it; core/liked-set.ts has the argument). One
 * statement per round for all the pairs. A failure drops the sets; if even that fails, the
 * events are retried.
 */
export async function convergeLikedSets(deps: HandlerDeps, pairs: readonly LikePair[]): Promise<void> {
  const { config, redis, sql } = deps;
  if (config.LIKES_CACHE_MAX === 0 || pairs.length === 0) return;
  let pending = [...new Map(pairs.map((p) => [pairKey(p), p])).values()];
  try {
    let standing = await likesStanding(sql, pending);
    for (let round = 0; round < CONVERGE_ROUNDS && pending.length > 0; round++) {
      const results = await Promise.all(
        pending.map((p) =>
          writeLikedSet(
            redis,
            p.userId,
            p.postId,
            standing.has(pairKey(p)),
            config.LIKES_CACHE_MAX,
            config.CACHE_TTL_SECONDS,
          ),
        ),
      );
      // No set (or none any more): nothing that could be left wrong.
      const applied = pending.filter((_, i) => results[i] === "applied");
      const now = await likesStanding(sql, applied);
      pending = applied.filter((p) => now.has(pairKey(p)) !== standing.has(pairKey(p)));
      standing = now;
    }
    await Promise.all(pending.map((p) => dropLikedSet(redis, p.userId)));
  } catch (e) {
    const dropped = await Promise.all(pairs.map((p) => dropLikedSet(redis, p.userId))).then(
      () => true,
      () => false,
    );
    if (!dropped) throw e;
  }
}

/**
 * PostLiked and PostUnliked events of one read, together: every count in one statement, every
 * liked set converged in one statement per round.
 */
export const onLikeEvents: BatchHandler = async (deps, events) => {
  const likes = events.filter(
    (e): e is EventOf<"PostLiked"> | EventOf<"PostUnliked"> =>
      e.type === "PostLiked" || e.type === "PostUnliked",
  );
  await applyLikes(
    deps,
    likes.map((e) => ({ eventId: e.id, postId: e.payload.post_id, delta: e.type === "PostLiked" ? 1 : -1 })),
  );
  await convergeLikedSets(
    deps,
    likes.map((e) => ({ userId: e.payload.user_id, postId: e.payload.post_id })),
  );
};
