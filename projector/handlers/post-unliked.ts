import { applyLikes, convergeLikedSets } from "./like-counts.ts";
import type { Handler } from "./types.ts";

/**
 * PostUnlikedEvent: post_stats −1 (once per event); commutes with a late PostLiked. The liker's
 * liked set converges on the likes row as it stands (liked again by now, maybe).
 */
export const onPostUnliked: Handler<"PostUnliked"> = async (deps, event) => {
  await applyLikes(deps, [{ eventId: event.id, postId: event.payload.post_id, delta: -1 }]);
  await convergeLikedSets(deps, [{ userId: event.payload.user_id, postId: event.payload.post_id }]);
};
