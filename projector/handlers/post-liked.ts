import { applyLike } from "./like-counts.ts";
import type { Handler } from "./types.ts";

/** PostLikedEvent: post_stats +1 (once per event), the cached count and popular posts follow. */
export const onPostLiked: Handler<"PostLiked"> = (deps, event) =>
  applyLike(deps, event.id, event.payload.post_id, 1);
