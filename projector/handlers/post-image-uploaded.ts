import { keys } from "../../core/redis-keys.ts";
import type { Handler } from "./types.ts";

/**
 * PostImageUploadedEvent, projector group: the cached body that names the old image is dropped,
 * and the old object deleted now that the new one is committed (deleting a missing object
 * succeeds, so a redelivery is harmless). Thumbnails belong to the media group (next step).
 */
export const onPostImageUploaded: Handler<"PostImageUploaded"> = async (deps, event) => {
  await deps.redis.del(keys.post(event.payload.post_id));
  const previous = event.payload.previous_key;
  if (previous && deps.storage && previous !== event.payload.key) await deps.storage.delete(previous);
};
