import type { Deps } from "../deps.ts";
import type { Viewer } from "../plugins/auth.ts";
import { changeLike } from "./change-like.ts";

/** POST /likes: LikePostCommand → likes row + PostLiked; liking twice changes nothing (200, no event). */
export function likePost(deps: Deps, viewer: Viewer, postId: string, idempotencyKey: string | undefined) {
  return changeLike(deps, viewer, postId, idempotencyKey, true);
}
