import { createHash } from "node:crypto";
import sharp from "sharp";
import type { Config } from "../../core/config.ts";
import { AppError } from "../../core/errors.ts";
import { IMAGE_TYPES, type ImageType, mediaKeys, SNIFF_BYTES, sniffImage } from "../../core/media.ts";
import type { Storage } from "../../core/storage.ts";
import { decodeGate } from "./decode-gate.ts";
import { type ImageToStore, storageOf } from "./store-image.ts";

// Every upload is checked here, whatever the client or the storage claims: size, type by magic
// bytes, and one bounded decode (pixel limit first, then errors and truncation fail it). A file
// that fails is never stored and never decoded again.

/** The file name part of an upload key: mediaFilename's, or at least as plain. */
const UPLOAD_NAME = /^[A-Za-z0-9_-]{1,64}\.[a-z]{3,4}$/;

/** Re-encoding settings: near the sent quality, so the stored copy is not visibly worse. */
const ENCODINGS = {
  jpeg: { quality: 90 },
  png: {},
  webp: { quality: 90 },
} as const satisfies Record<ImageType, object>;

/** A re-encode that runs longer than this is refused as corrupt rather than holding its slot. */
const ENCODE_TIME_LIMIT_SECONDS = 20;

export interface CheckedImage {
  /** What is stored: the upload re-encoded, upright, without metadata. */
  bytes: Uint8Array;
  type: ImageType;
  mime: string;
  /** Of what is stored (after rotation). */
  width: number;
  height: number;
  /** SHA-256 of the upload as sent (hex): what makes an idempotent request's fingerprint. */
  sha256: string;
}

export async function checkImage(
  config: Config,
  file: Blob | undefined,
  field = "file",
): Promise<CheckedImage> {
  if (!file) {
    throw new AppError("validation_failed", `multipart field "${field}" is missing`, {
      errors: [{ location: "body", path: field, message: "required" }],
    });
  }
  if (file.size > config.MEDIA_MAX_BYTES) {
    throw new AppError(
      "payload_too_large",
      `the image is ${file.size} bytes; at most ${config.MEDIA_MAX_BYTES} are accepted`,
    );
  }
  if (file.size === 0)
    throw new AppError("validation_failed", "the file is empty", {
      errors: [{ location: "body", path: field, message: "empty" }],
    });
  const bytes = new Uint8Array(await file.arrayBuffer());
  const type = sniffImage(bytes);
  if (!type)
    throw new AppError(
      "unsupported_media_type",
      "the file is not a JPEG, PNG or WebP image (judged by its content, not its name or declared type)",
    );

  return decodeGate(config).run(() => decode(config, bytes, type, field));
}

/** The bounded decode of an upload that looks like an image, in one of the process's slots. */
async function decode(
  config: Config,
  bytes: Uint8Array,
  type: ImageType,
  field: string,
): Promise<CheckedImage> {
  const options = { limitInputPixels: config.MEDIA_MAX_PIXELS, failOn: "truncated" as const };
  try {
    await sharp(bytes, options).metadata();
  } catch (e) {
    // The pixel limit is checked from the header, before anything is decoded.
    if (String((e as Error).message).includes("pixel limit")) {
      throw new AppError("validation_failed", `the image has more than ${config.MEDIA_MAX_PIXELS} pixels`, {
        errors: [{ location: "body", path: field, message: "too many pixels" }],
      });
    }
    throw new AppError("validation_failed", "the image cannot be read: its header is corrupt", {
      errors: [{ location: "body", path: field, message: "corrupt" }],
    });
  }
  let stored: { data: Buffer; info: { width: number; height: number } };
  try {
    // What is stored is not what was sent: the pixels, turned upright from the EXIF
    // orientation and re-encoded in the sent format, with every metadata block (EXIF, GPS, XMP,
    // ICC, comments) left behind. The one full decode also fails truncated or broken data.
    stored = await sharp(bytes, options)
      .rotate()
      .toFormat(type, ENCODINGS[type])
      .timeout({ seconds: ENCODE_TIME_LIMIT_SECONDS })
      .toBuffer({ resolveWithObject: true });
  } catch {
    throw new AppError("validation_failed", "the image data is truncated or corrupt", {
      errors: [{ location: "body", path: field, message: "corrupt" }],
    });
  }
  return {
    bytes: new Uint8Array(stored.data),
    type,
    mime: IMAGE_TYPES[type].mime,
    width: stored.info.width,
    height: stored.info.height,
    sha256: createHash("sha256").update(bytes).digest("hex"),
  };
}

/**
 * An image given either as a multipart file or as the key of a direct upload. A direct upload is
 * verified here, whatever the storage's policy was supposed to enforce: it must sit under the
 * caller's own uploads prefix, exist, be within the size limit (HEAD) and start like an image
 * (a ranged GET), before the whole object is read and checked like a multipart file.
 */
export async function resolveImage(
  deps: { config: Config; storage?: Storage | null },
  userId: string,
  body: { file?: File; upload_key?: string },
  fileField = "file",
): Promise<ImageToStore> {
  if (body.file && body.upload_key) {
    throw new AppError(
      "validation_failed",
      `send either a multipart "${fileField}" or a JSON "upload_key", not both`,
    );
  }
  if (!body.upload_key) return { ...(await checkImage(deps.config, body.file, fileField)), uploadKey: null };
  const key = body.upload_key;
  const storage = storageOf(deps);
  const prefix = mediaKeys.uploadPrefix(userId);
  if (!key.startsWith(prefix) || key.includes("..")) {
    throw new AppError("forbidden", "upload_key is not one of your uploads (POST /uploads gives you one)");
  }
  // Only a name POST /uploads could have given out goes to S3: a NUL or a lone surrogate in a
  // key made the S3 client throw, a 500.
  if (!UPLOAD_NAME.test(key.slice(prefix.length))) {
    throw new AppError(
      "not_found",
      "nothing was uploaded at that upload_key: POST /uploads never gives out such a key",
    );
  }
  const head = await storage.head(key);
  if (!head) throw new AppError("not_found", `nothing was uploaded at ${key} (or it expired)`);
  if (head.size > deps.config.MEDIA_MAX_BYTES) {
    throw new AppError(
      "payload_too_large",
      `the upload is ${head.size} bytes; at most ${deps.config.MEDIA_MAX_BYTES} are accepted`,
    );
  }
  if (!sniffImage(await storage.getStart(key, SNIFF_BYTES))) {
    throw new AppError(
      "unsupported_media_type",
      "the upload is not a JPEG, PNG or WebP image (judged by its content)",
    );
  }
  const bytes = await storage.get(key);
  return { ...(await checkImage(deps.config, new Blob([bytes]), "upload_key")), uploadKey: key };
}
