import { dropCachedBodies } from "../../core/cache.ts";
import { THUMBNAIL_WIDTHS, thumbnailKey } from "../../core/media.ts";
import type { Handler } from "./types.ts";

/**
 * PostImageUploadedEvent, projector group: the cached body that names the old image is dropped,
 * and the old object deleted now that the new one is committed (deleting a missing object
 * succeeds, so a redelivery is harmless), with its thumbnails. Making thumbnails is the media
 * group's work (projector/media/).
 */
export const onPostImageUploaded: Handler<"PostImageUploaded"> = async (deps, event) => {
  await dropCachedBodies(deps.redis, { posts: [event.payload.post_id] });
  const previous = event.payload.previous_key;
  if (previous && deps.storage && previous !== event.payload.key) {
    await deps.storage.delete(previous);
    for (const w of THUMBNAIL_WIDTHS) await deps.storage.delete(thumbnailKey(previous, w));
  }
};
