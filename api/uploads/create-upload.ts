import { AppError } from "../../core/errors.ts";
import {
  IMAGE_TYPES,
  type ImageType,
  mediaFilename,
  mediaKeys,
  UPLOAD_EXPIRES_SECONDS,
  UPLOAD_RETENTION_MS,
} from "../../core/media.ts";
import { lockPendingUploads, reservePendingUpload } from "../../db/uploads.ts";
import type { Deps } from "../deps.ts";
import { storageOf } from "../media/store-image.ts";
import type { Viewer } from "../plugins/auth.ts";

/**
 * POST /uploads: a presigned POST for a direct upload to S3, under the caller's uploads/ prefix,
 * its size and type in the policy. Counted against the caller's quota of pending uploads until a
 * command attaches it (api/media/store-image.ts) or the sweeper removes it.
 */
export async function createUpload(deps: Deps, viewer: Viewer, body: { content_type: string; size: number }) {
  const storage = storageOf(deps);
  const type = (Object.keys(IMAGE_TYPES) as ImageType[]).find(
    (k) => IMAGE_TYPES[k].mime === body.content_type,
  )!;
  if (body.size > deps.config.MEDIA_MAX_BYTES) {
    throw new AppError(
      "payload_too_large",
      `size ${body.size} is over the limit of ${deps.config.MEDIA_MAX_BYTES} bytes`,
    );
  }
  const key = mediaKeys.upload(viewer.id, mediaFilename(type));
  await reserveUpload(deps, viewer.id, key, body.size);
  const post = await storage.presignPost(key, body.content_type, body.size, UPLOAD_EXPIRES_SECONDS);
  return {
    url: post.url,
    fields: post.fields,
    key,
    expires_at: new Date(Date.now() + UPLOAD_EXPIRES_SECONDS * 1000).toISOString(),
  };
}

/**
 * Counts an upload against its user's quota of pending uploads, or refuses it with 429. The
 * Retry-After is when the oldest pending upload is swept, if none is attached before.
 */
async function reserveUpload(deps: Deps, userId: string, key: string, bytes: number): Promise<void> {
  const max = {
    maxCount: deps.config.UPLOAD_PENDING_MAX_COUNT,
    maxBytes: deps.config.UPLOAD_PENDING_MAX_BYTES,
  };
  const r = await deps.sql.begin(async (tx) => {
    await lockPendingUploads(tx, userId);
    return reservePendingUpload(tx, { key, userId, bytes, ...max });
  });
  if (r.reserved) return;
  const freedAt = (r.oldest?.getTime() ?? Date.now()) + UPLOAD_RETENTION_MS + UPLOAD_EXPIRES_SECONDS * 1000;
  throw new AppError(
    "upload_quota_exceeded",
    `you have ${r.count} uploads (${r.bytes} bytes) not yet attached; at most ${max.maxCount} uploads and ${max.maxBytes} bytes may be pending: attach them, or wait until they are swept`,
    { headers: { "retry-after": String(Math.max(1, Math.ceil((freedAt - Date.now()) / 1000))) } },
  );
}
