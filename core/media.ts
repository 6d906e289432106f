// What an uploaded file is, decided by its first bytes alone: never by its name or by the type a
// client declares. Only JPEG, PNG and WebP are accepted.

export type ImageType = "jpeg" | "png" | "webp";

export const IMAGE_TYPES: Record<ImageType, { mime: string; ext: string }> = {
  jpeg: { mime: "image/jpeg", ext: "jpg" },
  png: { mime: "image/png", ext: "png" },
  webp: { mime: "image/webp", ext: "webp" },
};

/** Bytes needed to decide. */
export const SNIFF_BYTES = 16;

const startsWith = (b: Uint8Array, sig: readonly number[], at = 0) => sig.every((v, i) => b[at + i] === v);

export function sniffImage(bytes: Uint8Array): ImageType | null {
  // JPEG: SOI then a marker (FF D8 FF).
  if (bytes.length >= 4 && startsWith(bytes, [0xff, 0xd8, 0xff])) return "jpeg";
  // PNG: the 8-byte signature, then an IHDR chunk.
  if (
    bytes.length >= 16 &&
    startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) &&
    startsWith(bytes, [0x49, 0x48, 0x44, 0x52], 12)
  ) {
    return "png";
  }
  // WebP: RIFF....WEBP then a VP8/VP8L/VP8X chunk.
  if (
    bytes.length >= 16 &&
    startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) &&
    startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8) &&
    startsWith(bytes, [0x56, 0x50, 0x38], 12)
  ) {
    return "webp";
  }
  return null;
}

/** A generated object name: 128 random bits and the extension of the sniffed type. */
export function mediaFilename(type: ImageType): string {
  return `${Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64url")}.${IMAGE_TYPES[type].ext}`;
}

/** Presigned POSTs expire quickly: the client uploads right away. */
export const UPLOAD_EXPIRES_SECONDS = 300;

/** Direct uploads never attached are swept (and stop counting against the quota) after this. */
export const UPLOAD_RETENTION_MS = 86_400_000;

export const mediaKeys = {
  /** Direct uploads wait here, under their user's prefix, until attached (or swept after a day). */
  uploadPrefix: (userId: string) => `uploads/${userId}/`,
  upload: (userId: string, filename: string) => `uploads/${userId}/${filename}`,
  avatar: (userId: string, filename: string) => `users/${userId}/avatars/${filename}`,
  postImage: (postId: string, filename: string) => `posts/${postId}/${filename}`,
};

/** Thumbnail widths (WebP, upright, metadata stripped) made by the media consumer group. */
export const THUMBNAIL_WIDTHS = [320, 1080] as const;

/** A thumbnail's key: beside its original, named after it. */
export const thumbnailKey = (originalKey: string, width: number) =>
  `${originalKey.replace(/\.[a-z]+$/, "")}_w${width}.webp`;

/** Avatar thumbnails: square WebP of this side, made by the media consumer group. */
export const AVATAR_THUMB_SIZE = 128;

/** An avatar thumbnail's key: beside its original, named after it. */
export const avatarThumbKey = (avatarKey: string) =>
  `${avatarKey.replace(/\.[a-z]+$/, "")}_s${AVATAR_THUMB_SIZE}.webp`;

export interface ImageVariant {
  key: string;
  width: number;
  height: number;
}
export type ImageVariants = Partial<Record<`${(typeof THUMBNAIL_WIDTHS)[number]}`, ImageVariant>>;
