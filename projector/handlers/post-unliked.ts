import { applyLike } from "./like-counts.ts";
import type { Handler } from "./types.ts";

/** PostUnlikedEvent: post_stats −1 (once per event); commutes with a late PostLiked. */
export const onPostUnliked: Handler<"PostUnliked"> = (deps, event) =>
  applyLike(deps, event.id, event.payload.post_id, -1);
