import { dropCachedBodies } from "../../core/cache.ts";
import { avatarThumbKey } from "../../core/media.ts";
import type { Handler } from "./types.ts";

/**
 * AvatarUpdatedEvent: the cached user card that names the old avatar is dropped, and the old
 * object and its thumbnail (if the media group made one) are deleted, now that the new one is
 * committed. A failure is retried like any handler;
 * deleting an object that is already gone succeeds, so a redelivery is harmless.
 */
export const onAvatarUpdated: Handler<"AvatarUpdated"> = async (deps, event) => {
  await dropCachedBodies(deps.redis, { users: [event.payload.user_id] });
  const previous = event.payload.previous_key;
  if (previous && deps.storage && previous !== event.payload.key) {
    await deps.storage.delete(previous);
    await deps.storage.delete(avatarThumbKey(previous));
  }
};
