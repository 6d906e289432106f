import { type CachedPost, cacheLikeCounts, cachePosts } from "../../core/cache.ts";
import { AppError } from "../../core/errors.ts";
import { eventEnvelope } from "../../core/events.ts";
import { timestampOf } from "../../core/ids.ts";
import { mediaFilename, mediaKeys } from "../../core/media.ts";
import { findStoredResponse } from "../../db/idempotency.ts";
import { attachPostImage, createPostOnce, insertPost } from "../../db/posts.ts";
import { CreatePostCommand } from "../commands/commands.ts";
import {
  type CommandOutcome,
  type IdempotencyInput,
  runCommand,
  runStatement,
  streamOf,
} from "../commands/run-command.ts";
import type { Deps } from "../deps.ts";
import { hydratePosts } from "../hydrate/hydrate-posts.ts";
import { postMediaKeys, presentPost, signedUrls, userMediaKeys, type WirePost } from "../hydrate/present.ts";
import { type ImageToStore, storageOf, storeImage } from "../media/store-image.ts";
import { resolveImage } from "../media/validate-image.ts";
import type { Viewer } from "../plugins/auth.ts";

/**
 * CreatePostCommand → posts row + PostCreatedEvent, and with an image (multipart, or a direct
 * upload's key) also UploadPostImageCommand → PostImageUploadedEvent, in one transaction, stored
 * as every image is (api/media/store-image.ts). Posts are immutable once written; only their
 * image can be replaced (./attach-image.ts).
 */
export async function createPost(
  deps: Deps,
  viewer: Viewer,
  body: { text: string; image?: File; upload_key?: string },
  idempotencyKey: string | undefined,
) {
  const parsed = CreatePostCommand.safeParse({ author_id: BigInt(viewer.id), text: body.text });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError("validation_failed", `invalid body field "text": ${issue.message}`, {
      errors: [{ location: "body", path: "text", message: issue.message }],
    });
  }
  const idem = {
    userId: viewer.id,
    route: "POST /posts",
    key: idempotencyKey,
    required: true,
    // A multipart image's bytes (not the File object) make the fingerprint: the same key with
    // another picture is another request. A direct upload's key names its bytes already.
    body: body.upload_key
      ? { text: body.text, upload_key: body.upload_key }
      : { text: body.text, image_sha256: null as string | null },
  };
  const image = await postImage(deps, viewer, body, idem);
  if (image === null) return createTextPost(deps, viewer, parsed.data.text, idem);
  if (image === ANSWERED) {
    const out = await runCommand<WirePost>(deps, idem, async () => {
      // Answered when looked at, but no longer stored (it just expired): the upload is gone.
      throw new AppError("not_found", `nothing was uploaded at ${body.upload_key}`);
    });
    return answerCreated(deps, viewer, out, null);
  }
  if (!image.uploadKey) idem.body.image_sha256 = image.sha256;

  // The new post as committed, for the answer: built from it and the viewer's card, not read back.
  let created: CachedPost | null = null;
  const out = await storeImage<WirePost>(deps, idem, image, async (tx, put) => {
    const post = await insertPost(tx, viewer.id, parsed.data.text);
    const key = mediaKeys.postImage(post.id, mediaFilename(image.type));
    await put(key);
    await attachPostImage(tx, {
      postId: post.id,
      authorId: viewer.id,
      key,
      width: image.width,
      height: image.height,
    });
    // The fields hydration reads (db/feed.ts hydrationRows), so the cached copy is the same.
    const cached: CachedPost = {
      id: post.id,
      author_id: post.author_id,
      text: post.text,
      image_key: key,
      image_width: image.width,
      image_height: image.height,
      image_variants: null,
    };
    created = cached;
    return {
      status: 201,
      // Stored for replays without presigned URLs (they would expire first); the answer
      // below is hydrated fresh.
      body: presentPost(post, viewer, { at: timestampOf(post.id), likeCount: 0, likedByMe: false }),
      events: [
        {
          type: "PostCreated",
          actorId: viewer.id,
          payload: {
            post_id: post.id,
            author_id: viewer.id,
            created_at: new Date(timestampOf(post.id)).toISOString(),
          },
        },
        {
          type: "PostImageUploaded",
          actorId: viewer.id,
          payload: { post_id: post.id, author_id: viewer.id, key, previous_key: null },
        },
      ],
      updateCaches: () => cacheNewPost(deps, cached),
    };
  });
  return answerCreated(deps, viewer, out, created);
}

/** A retried request whose answer is stored: it needs no image, runCommand replays the answer. */
const ANSWERED = Symbol("answered");

/**
 * The post's image: a multipart file, or a direct upload (POST /uploads) named by its key. The
 * upload is deleted once attached, so a retry of an answered request must not look for it.
 */
async function postImage(
  deps: Deps,
  viewer: Viewer,
  body: { image?: File; upload_key?: string },
  idem: IdempotencyInput,
): Promise<ImageToStore | typeof ANSWERED | null> {
  if (!body.image && !body.upload_key) return null;
  if (body.upload_key && idem.key && (await findStoredResponse(deps.sql, viewer.id, idem.route, idem.key)))
    return ANSWERED;
  const image = await resolveImage(
    deps,
    viewer.id,
    { file: body.image, upload_key: body.upload_key },
    "image",
  );
  storageOf(deps);
  return image;
}

/**
 * A text post in one statement (db/posts.ts createPostOnce): the statement assigns the ids and
 * writes them into the stored answer and the event, so the answer needs no read back.
 */
async function createTextPost(deps: Deps, viewer: Viewer, text: string, idem: IdempotencyInput) {
  const stream = streamOf(deps, viewer.id);
  // Placeholders for what the statement assigns: the post's id and created_at.
  const draft: CachedPost = {
    id: "0",
    author_id: viewer.id,
    text,
    image_key: null,
    image_width: null,
    image_height: null,
    image_variants: null,
  };
  const event = eventEnvelope(
    {
      type: "PostCreated",
      actorId: viewer.id,
      payload: { post_id: "0", author_id: viewer.id, created_at: "" },
    },
    new Date(),
  );
  // Stored for replays without presigned URLs (they would expire first).
  const answer = presentPost(draft, viewer, { at: 0, likeCount: 0, likedByMe: false });
  const out = await runStatement(
    deps,
    idem,
    (claim) =>
      createPostOnce(deps.plannedSql ?? deps.sql, claim, {
        authorId: viewer.id,
        text,
        stream,
        event,
        answer,
      }),
    (row) => {
      const post: CachedPost = { ...draft, id: row!.post_id };
      return {
        status: row!.status,
        body: presentPost(post, viewer, { likeCount: 0, likedByMe: false }),
        outbox: [{ id: row!.event_id, stream, event: row!.event }],
        updateCaches: () => cacheNewPost(deps, post),
      };
    },
  );
  return answerCreated(deps, viewer, out, out.replayed ? null : { ...draft, id: out.body.id });
}

/**
 * The body and its zero count in Redis, as a read would leave them: its followers' first pages
 * find it there.
 */
async function cacheNewPost(deps: Deps, post: CachedPost): Promise<void> {
  const ttl = deps.config.CACHE_TTL_SECONDS;
  await Promise.all([
    cachePosts(deps.redis, [post], ttl),
    cacheLikeCounts(deps.redis, [{ post_id: post.id, like_count: 0 }], ttl),
  ]).catch(() => {});
}

async function answerCreated(
  deps: Deps,
  viewer: Viewer,
  out: CommandOutcome<WirePost>,
  created: CachedPost | null,
): Promise<CommandOutcome<WirePost>> {
  if (!out.replayed && created) {
    // No statement to answer: nobody can have liked it yet, and its thumbnail comes later.
    const post: CachedPost = created;
    const { urls } = await signedUrls(deps, [...userMediaKeys(viewer), ...postMediaKeys(post)]);
    return { ...out, body: presentPost(post, viewer, { likeCount: 0, likedByMe: false }, urls) };
  }
  // A replay: the stored answer has no presigned URLs (they would have expired), and the post
  // may have been liked since.
  const [fresh] = await hydratePosts(deps, viewer.id, [out.body.id]);
  return { ...out, body: fresh ?? out.body };
}
