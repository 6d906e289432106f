import { keys } from "../../core/redis-keys.ts";
import type { Handler } from "./types.ts";

/**
 * PostImageUploadedEvent, projector group: the cached body that names the old image is dropped.
 * Thumbnails and deleting the old object belong to the media group (media issue).
 */
export const onPostImageUploaded: Handler<"PostImageUploaded"> = async (deps, event) => {
  await deps.redis.del(keys.post(event.payload.post_id));
};
