import { AppError } from "../../core/errors.ts";
import { dropLikedSet, writeLikedSet } from "../../core/liked-set.ts";
import { redisLooksDown, withRedis } from "../../core/redis-breaker.ts";
import { deleteLike, insertLike } from "../../db/graph.ts";
import { findPostAuthor } from "../../db/posts.ts";
import { runCommand } from "../commands/run-command.ts";
import type { Deps } from "../deps.ts";
import type { Viewer } from "../plugins/auth.ts";

export interface LikeState {
  post_id: string;
  liked: boolean;
}

/** LikePostCommand → likes row + PostLikedEvent; liking twice changes nothing (200, no event). */
export function likePost(deps: Deps, viewer: Viewer, postId: string, idempotencyKey: string | undefined) {
  return runCommand<LikeState>(
    deps,
    {
      userId: viewer.id,
      route: "POST /likes",
      key: idempotencyKey,
      required: false,
      body: { post_id: postId },
    },
    async (tx) => {
      const authorId = await findPostAuthor(tx, postId);
      if (!authorId) throw new AppError("post_not_found", `post ${postId} does not exist`);
      const created = await insertLike(tx, viewer.id, postId);
      return {
        status: created ? 201 : 200,
        body: { post_id: postId, liked: true },
        updateCaches: created ? () => updateLikedSet(deps, viewer.id, postId, true) : undefined,
        events: created
          ? [
              {
                type: "PostLiked",
                actorId: viewer.id,
                payload: { post_id: postId, user_id: viewer.id, author_id: authorId },
              },
            ]
          : [],
      };
    },
  );
}

/** UnlikePostCommand → the row goes + PostUnlikedEvent; unliking what is not liked is a no-op. */
export function unlikePost(deps: Deps, viewer: Viewer, postId: string, idempotencyKey: string | undefined) {
  return runCommand<LikeState>(
    deps,
    {
      userId: viewer.id,
      route: "DELETE /likes/:post_id",
      key: idempotencyKey,
      required: false,
      body: { post_id: postId },
    },
    async (tx) => {
      const authorId = await findPostAuthor(tx, postId);
      if (!authorId) throw new AppError("post_not_found", `post ${postId} does not exist`);
      const deleted = await deleteLike(tx, viewer.id, postId);
      return {
        status: 204,
        body: { post_id: postId, liked: false },
        updateCaches: deleted ? () => updateLikedSet(deps, viewer.id, postId, false) : undefined,
        events: deleted
          ? [
              {
                type: "PostUnliked",
                actorId: viewer.id,
                payload: { post_id: postId, user_id: viewer.id, author_id: authorId },
              },
            ]
          : [],
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
