import { Elysia, t } from "elysia";
import { AppError } from "../../core/errors.ts";
import {
  IMAGE_TYPES,
  type ImageType,
  mediaFilename,
  mediaKeys,
  UPLOAD_EXPIRES_SECONDS,
  UPLOAD_RETENTION_MS,
} from "../../core/media.ts";
import type { Tx } from "../../db/client.ts";
import { attachPostImage, findPostAuthor } from "../../db/posts.ts";
import { lockPendingUploads, releasePendingUpload, reservePendingUpload } from "../../db/uploads.ts";
import { replaceAvatar } from "../../db/users.ts";
import { type DraftEvent, runCommand } from "../commands/run-command.ts";
import type { Deps } from "../deps.ts";
import { hydratePosts } from "../hydrate/hydrate-posts.ts";
import { dropBodies } from "../hydrate/memory.ts";
import { mediaUrls, presentUser } from "../hydrate/present.ts";
import { authBeforeBody, bearerSecurity, requireAuth } from "../plugins/auth.ts";
import { jsonOrForm } from "../plugins/limits.ts";
import { checkId, IdParams, NoQuery, PostSchema, problems, UserSchema } from "../schemas.ts";
import { type CheckedImage, resolveImage } from "./validate-image.ts";

// PUT /me/avatar (UpdateAvatarCommand → AvatarUpdatedEvent) and PUT /posts/{id}/image
// (UploadPostImageCommand → PostImageUploadedEvent), multipart `file`. The new object is written
// and committed first; the old one is deleted afterwards by the projector on the event, so a
// crash never leaves anything pointing at a deleted object.

/** Cleanup that must not turn a done command into an error: failures only cost garbage. */
async function bestEffort(work: Promise<unknown>): Promise<void> {
  try {
    await work;
  } catch {}
}

const ImageBody = t.Object(
  {
    file: t.Optional(t.File({ description: "multipart: JPEG, PNG or WebP, at most 5 MB" })),
    upload_key: t.Optional(
      t.String({ maxLength: 512, description: "JSON: the key of a direct upload (POST /uploads)" }),
    ),
  },
  { additionalProperties: false },
);

/**
 * The write order of every image command: the object first, then the transaction that points at
 * it (and records its event). If the transaction fails the new object goes at once; once it has
 * committed, the direct upload it came from is removed.
 */
async function storeThenCommit(
  deps: Deps,
  userId: string,
  route: string,
  image: CheckedImage & { uploadKey: string | null },
  key: string,
  point: (tx: Tx) => Promise<DraftEvent>,
): Promise<void> {
  const storage = storageOf(deps);
  await storage.put(key, image.bytes, image.mime);
  try {
    await runCommand(deps, { userId, route, key: undefined, required: false, body: null }, async (tx) => {
      const event = await point(tx);
      // Attached: the direct upload no longer counts against its user's quota.
      if (image.uploadKey) await releasePendingUpload(tx, userId, image.uploadKey);
      return { status: 200, body: null, events: [event] };
    });
  } catch (e) {
    await bestEffort(storage.delete(key));
    throw e;
  }
  if (image.uploadKey) await bestEffort(storage.delete(image.uploadKey));
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

function storageOf(deps: Deps) {
  if (!deps.storage)
    throw new AppError("not_ready", "media storage is not configured (S3_ENDPOINT, S3_KEY, S3_SECRET)");
  return deps.storage;
}

export const mediaRoutes = (deps: Deps) =>
  new Elysia()
    .use(requireAuth(deps))
    .put(
      "/posts/:id/image",
      async ({ viewer, params, body }) => {
        storageOf(deps); // 503 before any work when S3 is not configured
        const postId = checkId(params.id, "id");
        // Ownership first: another user's post is a 404 before any byte is looked at.
        if ((await findPostAuthor(deps.sql, postId)) !== viewer.id)
          throw new AppError("post_not_found", `post ${postId} does not exist or is not yours`);
        const image = await resolveImage(deps, viewer.id, body);
        const key = mediaKeys.postImage(postId, mediaFilename(image.type));
        await storeThenCommit(deps, viewer.id, "PUT /posts/:id/image", image, key, async (tx) => {
          const attached = await attachPostImage(tx, {
            postId,
            authorId: viewer.id,
            key,
            width: image.width,
            height: image.height,
          });
          if (!attached)
            throw new AppError("post_not_found", `post ${postId} does not exist or is not yours`);
          return {
            type: "PostImageUploaded",
            actorId: viewer.id,
            payload: { post_id: postId, author_id: viewer.id, key, previous_key: attached.previous },
          };
        });
        await bestEffort(dropBodies(deps, { posts: [postId] }));
        const [post] = await hydratePosts(deps, viewer.id, [postId]);
        return post!;
      },
      {
        params: IdParams,
        parse: [authBeforeBody(deps), ...jsonOrForm],
        body: ImageBody,
        query: NoQuery,
        response: { 200: PostSchema, ...problems(400, 401, 404, 413, 415, 503) },
        detail: {
          summary: "Attach or replace your post's image (multipart file); the text stays immutable",
          tags: ["media"],
          security: bearerSecurity,
        },
      },
    )
    .put(
      "/me/avatar",
      async ({ viewer, body, set }) => {
        storageOf(deps); // 503 before any work when S3 is not configured
        const image = await resolveImage(deps, viewer.id, body);
        const key = mediaKeys.avatar(viewer.id, mediaFilename(image.type));
        await storeThenCommit(deps, viewer.id, "PUT /me/avatar", image, key, async (tx) => {
          const replaced = await replaceAvatar(tx, viewer.id, key);
          if (!replaced) throw new AppError("unauthorized", "the token's user no longer exists");
          return {
            type: "AvatarUpdated",
            actorId: viewer.id,
            payload: { user_id: viewer.id, key, previous_key: replaced.previous },
          };
        });
        await bestEffort(dropBodies(deps, { users: [viewer.id] }));
        set.status = 200;
        // The thumbnail is made afterwards, by the media consumer group.
        const me = { ...viewer, avatar_key: key, avatar_thumb_key: null };
        return presentUser(deps, me, await mediaUrls(deps, [key]));
      },
      {
        parse: [authBeforeBody(deps), ...jsonOrForm],
        body: ImageBody,
        query: NoQuery,
        response: { 200: UserSchema, ...problems(400, 401, 413, 415, 503) },
        detail: {
          summary: "Replace your avatar (multipart file); the old object is deleted",
          tags: ["media"],
          security: bearerSecurity,
        },
      },
    )
    .post(
      "/uploads",
      async ({ viewer, body }) => {
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
      },
      {
        body: t.Object(
          {
            purpose: t.Union([t.Literal("avatar"), t.Literal("post_image")]),
            content_type: t.Union([t.Literal("image/jpeg"), t.Literal("image/png"), t.Literal("image/webp")]),
            size: t.Integer({ minimum: 1, description: "bytes; at most 5 MB" }),
          },
          { additionalProperties: false },
        ),
        query: NoQuery,
        response: {
          200: t.Object({
            url: t.String(),
            fields: t.Record(t.String(), t.String()),
            key: t.String(),
            expires_at: t.String(),
          }),
          ...problems(400, 401, 413, 415, 429, 503),
        },
        detail: {
          summary:
            "A presigned POST for a direct upload to S3 (size and type in its policy); attach its key afterwards",
          tags: ["media"],
          security: bearerSecurity,
        },
      },
    );
