import { applyLike, convergeLikedSet } from "./like-counts.ts";
import type { Handler } from "./types.ts";

/**
 * PostLikedEvent: post_stats +1 (once per event), the cached count and popular posts follow; the
 * liker's liked set converges on the likes row as it stands (the like may be gone by now).
 */
export const onPostLiked: Handler<"PostLiked"> = async (deps, event) => {
  await applyLike(deps, event.id, event.payload.post_id, 1);
  await convergeLikedSet(deps, event.payload.user_id, event.payload.post_id);
};
