import { AppError } from "../../core/errors.ts";
import { mediaFilename, mediaKeys } from "../../core/media.ts";
import { replaceAvatar } from "../../db/users.ts";
import type { Deps } from "../deps.ts";
import { dropBodies } from "../hydrate/memory.ts";
import { mediaUrls, presentUser } from "../hydrate/present.ts";
import { bestEffort, storageOf, storeImage } from "../media/store-image.ts";
import { resolveImage } from "../media/validate-image.ts";
import type { Viewer } from "../plugins/auth.ts";

/**
 * PUT /me/avatar: UpdateAvatarCommand → AvatarUpdatedEvent. The new object is stored as every
 * image is (api/media/store-image.ts); the old one is deleted by the projector, on the event.
 */
export async function updateAvatar(deps: Deps, viewer: Viewer, body: { file?: File; upload_key?: string }) {
  storageOf(deps); // 503 before any work when S3 is not configured
  const image = await resolveImage(deps, viewer.id, body);
  const key = mediaKeys.avatar(viewer.id, mediaFilename(image.type));
  const idem = { userId: viewer.id, route: "PUT /me/avatar", key: undefined, required: false, body: null };
  await storeImage(deps, idem, image, async (tx, put) => {
    await put(key);
    const replaced = await replaceAvatar(tx, viewer.id, key);
    if (!replaced) throw new AppError("unauthorized", "the token's user no longer exists");
    return {
      status: 200,
      body: null,
      events: [
        {
          type: "AvatarUpdated",
          actorId: viewer.id,
          payload: { user_id: viewer.id, key, previous_key: replaced.previous },
        },
      ],
    };
  });
  await bestEffort(dropBodies(deps, { users: [viewer.id] }));
  // The thumbnail is made afterwards, by the media consumer group.
  const me = { ...viewer, avatar_key: key, avatar_thumb_key: null };
  return presentUser(me, await mediaUrls(deps, [key]));
}
