import type { Deps } from "../deps.ts";
import type { Viewer } from "../plugins/auth.ts";
import { changeLike } from "./change-like.ts";

/** DELETE /likes/{post_id}: the row goes + PostUnliked; unliking what is not liked is a no-op. */
export function unlikePost(deps: Deps, viewer: Viewer, postId: string, idempotencyKey: string | undefined) {
  return changeLike(deps, viewer, postId, idempotencyKey, false);
}
