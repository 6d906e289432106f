import sharp from "sharp";
import { type ImageVariants, THUMBNAIL_WIDTHS, thumbnailKey } from "../../core/media.ts";
import { keys } from "../../core/redis-keys.ts";
import { recordImageVariants } from "../../db/posts.ts";
import type { Handler } from "../handlers/types.ts";

// The media group's handler for PostImageUploadedEvent: WebP thumbnails of the original, turned
// upright from its EXIF orientation, with all metadata (EXIF, GPS, ICC…) left behind. One image
// at a time per consumer (sharp's own threads are capped in main.ts), each bounded by the pixel
// limit and a time limit; failures retry and dead-letter like every handler.

const TIME_LIMIT_SECONDS = 20;

export const onPostImageForThumbnails: Handler<"PostImageUploaded"> = async (deps, event) => {
  const { post_id: postId, key } = event.payload;
  if (!deps.storage) throw new Error("media storage is not configured");
  const original = await deps.storage.get(key);
  const variants: ImageVariants = {};
  for (const width of THUMBNAIL_WIDTHS) {
    const { data, info } = await sharp(original, {
      limitInputPixels: deps.config.MEDIA_MAX_PIXELS,
      failOn: "error",
    })
      .rotate() // upright from EXIF, before anything else
      .resize({ width, withoutEnlargement: true })
      .webp({ quality: 80 })
      .timeout({ seconds: TIME_LIMIT_SECONDS })
      .toBuffer({ resolveWithObject: true });
    const variantKey = thumbnailKey(key, width);
    await deps.storage.put(variantKey, new Uint8Array(data), "image/webp");
    variants[`${width}`] = { key: variantKey, width: info.width, height: info.height };
  }
  if (await deps.sql.begin((tx) => recordImageVariants(tx, postId, key, variants))) {
    await deps.redis.del(keys.post(postId));
  } else {
    // The post moved on to another image meanwhile: these thumbnails belong to nothing.
    for (const v of Object.values(variants)) if (v) await deps.storage.delete(v.key);
  }
};
