import { AppError } from "../../core/errors.ts";
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
