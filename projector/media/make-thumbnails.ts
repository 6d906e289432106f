import sharp from "sharp";
import { dropCachedBodies } from "../../core/cache.ts";
import {
  AVATAR_THUMB_SIZE,
  avatarThumbKey,
  type ImageVariants,
  THUMBNAIL_WIDTHS,
  thumbnailKey,
} from "../../core/media.ts";
import { recordImageVariants } from "../../db/posts.ts";
import { recordAvatarThumb } from "../../db/users.ts";
import type { Handler } from "../handlers/types.ts";

// The media group's handlers for PostImageUploadedEvent and AvatarUpdatedEvent: WebP thumbnails of the original, turned
// upright from its EXIF orientation, with all metadata (EXIF, GPS, ICC…) left behind. One image
// at a time per consumer (sharp's own threads are capped in main.ts), each bounded by the pixel
// limit and a time limit; failures retry and dead-letter like every handler.

const TIME_LIMIT_SECONDS = 20;

/**
 * The original, or null when it was replaced again before this event's turn came and deleted by
 * the projector group on the newer event (groups run independently): nothing to make, and no
 * retry can bring it back.
 */
async function originalOf(deps: Parameters<Handler<"PostImageUploaded">>[0], key: string) {
  if (!deps.storage) throw new Error("media storage is not configured");
  return deps.storage
    .get(key)
    .catch((e: { name?: string }) => (e.name === "NoSuchKey" ? null : Promise.reject(e)));
}

export const onPostImageForThumbnails: Handler<"PostImageUploaded"> = async (deps, event) => {
  const { post_id: postId, key } = event.payload;
  const original = await originalOf(deps, key);
  if (!original || !deps.storage) return;
  const variants: ImageVariants = {};
  // Largest first, from the original (upright, shrunk on load); each smaller one from the
  // previous output, which is a fraction of the original's pixels: about twice as fast.
  let source: Uint8Array = original;
  for (const width of [...THUMBNAIL_WIDTHS].sort((a, b) => b - a)) {
    const { data, info } = await sharp(source, {
      limitInputPixels: deps.config.MEDIA_MAX_PIXELS,
      failOn: "error",
    })
      .rotate() // upright from EXIF (a no-op on our own, metadata-free outputs)
      .resize({ width, withoutEnlargement: true })
      .webp({ quality: 80, effort: 2 }) // effort 2: a third faster than the default 4 (perf/README.md)
      .timeout({ seconds: TIME_LIMIT_SECONDS })
      .toBuffer({ resolveWithObject: true });
    const variantKey = thumbnailKey(key, width);
    await deps.storage.put(variantKey, new Uint8Array(data), "image/webp");
    variants[`${width}`] = { key: variantKey, width: info.width, height: info.height };
    source = new Uint8Array(data);
  }
  if (await deps.sql.begin((tx) => recordImageVariants(tx, postId, key, variants))) {
    await dropCachedBodies(deps.redis, { posts: [postId] });
  } else {
    // The post moved on to another image meanwhile: these thumbnails belong to nothing.
    for (const v of Object.values(variants)) if (v) await deps.storage.delete(v.key);
  }
};

/** A square avatar thumbnail (centre crop), recorded on the user unless the avatar moved on. */
export const onAvatarForThumbnail: Handler<"AvatarUpdated"> = async (deps, event) => {
  const { user_id: userId, key } = event.payload;
  const original = await originalOf(deps, key);
  if (!original || !deps.storage) return;
  const data = await sharp(original, { limitInputPixels: deps.config.MEDIA_MAX_PIXELS, failOn: "error" })
    .rotate()
    .resize(AVATAR_THUMB_SIZE, AVATAR_THUMB_SIZE, { fit: "cover" })
    .webp({ quality: 80, effort: 2 })
    .timeout({ seconds: TIME_LIMIT_SECONDS })
    .toBuffer();
  const thumbKey = avatarThumbKey(key);
  await deps.storage.put(thumbKey, new Uint8Array(data), "image/webp");
  if (await recordAvatarThumb(deps.sql, userId, key, thumbKey))
    await dropCachedBodies(deps.redis, { users: [userId] });
  else await deps.storage.delete(thumbKey);
};
