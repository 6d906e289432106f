import { AppError } from "../../core/errors.ts";
import { eventEnvelope } from "../../core/events.ts";
import { dropLikedSet, writeLikedSet } from "../../core/liked-set.ts";
import { redisLooksDown, withRedis } from "../../core/redis-breaker.ts";
import { changeLikeOnce, type LikeChange } from "../../db/graph.ts";
import { runStatement, streamOf } from "../commands/run-command.ts";
import type { Deps } from "../deps.ts";
import type { Viewer } from "../plugins/auth.ts";

export interface LikeState {
  post_id: string;
  liked: boolean;
}

/** Liking and unliking, one statement each (db/graph.ts changeLikeOnce). */
export function changeLike(
  deps: Deps,
  viewer: Viewer,
  postId: string,
  idempotencyKey: string | undefined,
  liked: boolean,
) {
  const stream = streamOf(deps, viewer.id);
  // The statement writes the event's id and the post's author into it.
  const event = eventEnvelope(
    {
      type: liked ? "PostLiked" : "PostUnliked",
      actorId: viewer.id,
      payload: { post_id: postId, user_id: viewer.id, author_id: "0" },
    },
    new Date(),
  );
  const body: LikeState = { post_id: postId, liked };
  return runStatement<LikeState, LikeChange>(
    deps,
    {
      userId: viewer.id,
      route: liked ? "POST /likes" : "DELETE /likes/:post_id",
      key: idempotencyKey,
      required: false,
      body: { post_id: postId },
    },
    (claim) =>
      changeLikeOnce(deps.plannedSql ?? deps.sql, claim, {
        liked,
        userId: viewer.id,
        postId,
        stream,
        event,
        answer: body,
      }),
    (row) => {
      if (!row) throw new AppError("post_not_found", `post ${postId} does not exist`);
      const changed = row.event_id !== null;
      return {
        status: row.status,
        body,
        outbox: changed ? [{ id: row.event_id!, stream, event: row.event! }] : [],
        updateCaches: changed ? () => updateLikedSet(deps, viewer.id, postId, liked) : undefined,
      };
    },
  );
}

/**
 * The liker's set follows their own like or unlike before the answer (read-your-writes); the
 * event's handler converges it again afterwards. Only a real change writes: a write without an
 * event would have no handler after it to correct it (core/liked-set.ts). A write that may not
 * have landed drops the set instead (not awaited: Redis is failing, and the DEL goes out on the
 * same connection ahead of anything later).
 */
async function updateLikedSet(deps: Deps, userId: string, postId: string, liked: boolean): Promise<void> {
  const { redis, config } = deps;
  if (config.LIKES_CACHE_MAX === 0 || redisLooksDown(redis)) return;
  const written = await withRedis(
    redis,
    () =>
      writeLikedSet(redis, userId, postId, liked, config.LIKES_CACHE_MAX, config.CACHE_TTL_SECONDS).then(
        () => true,
      ),
    () => false,
  ).catch(() => false);
  if (!written) dropLikedSet(redis, userId).catch(() => {});
}
