import { applyLikes, convergeLikedSets } from "./like-counts.ts";
import type { Handler } from "./types.ts";

/**
 * PostLikedEvent: post_stats +1 (once per event), the cached count and popular posts follow; the
 * liker's liked set converges on the likes row as it stands (the like may be gone by now).
 */
export const onPostLiked: Handler<"PostLiked"> = async (deps, event) => {
  await applyLikes(deps, [{ eventId: event.id, postId: event.payload.post_id, delta: 1 }]);
  await convergeLikedSets(deps, [{ userId: event.payload.user_id, postId: event.payload.post_id }]);
};
