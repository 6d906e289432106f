import { applyLike, convergeLikedSet } from "./like-counts.ts";
import type { Handler } from "./types.ts";

/**
 * PostUnlikedEvent: post_stats −1 (once per event); commutes with a late PostLiked. The liker's
 * liked set converges on the likes row as it stands (liked again by now, maybe).
 */
export const onPostUnliked: Handler<"PostUnliked"> = async (deps, event) => {
  await applyLike(deps, event.id, event.payload.post_id, -1);
  await convergeLikedSet(deps, event.payload.user_id, event.payload.post_id);
};
