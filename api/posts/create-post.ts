import { type CachedPost, cacheLikeCounts, cachePosts } from "../../core/cache.ts";
import { CreatePostCommand } from "../../core/commands.ts";
import { AppError } from "../../core/errors.ts";
import { timestampOf } from "../../core/ids.ts";
import { mediaFilename, mediaKeys } from "../../core/media.ts";
import { attachPostImage, insertPost } from "../../db/posts.ts";
import { type DraftEvent, runCommand } from "../commands/run-command.ts";
import type { Deps } from "../deps.ts";
import { hydratePosts } from "../hydrate/hydrate-posts.ts";
import { postMediaKeys, presentPost, signedUrls, userMediaKeys, type WirePost } from "../hydrate/present.ts";
import { checkImage } from "../media/validate-image.ts";
import type { Viewer } from "../plugins/auth.ts";

/**
 * CreatePostCommand → posts row + PostCreatedEvent, and with an image (multipart) also
 * UploadPostImageCommand → PostImageUploadedEvent, in one transaction. Posts are immutable once
 * written; only their image can be replaced.
 */
export async function createPost(
  deps: Deps,
  viewer: Viewer,
  body: { text: string; image?: File },
  idempotencyKey: string | undefined,
) {
  const parsed = CreatePostCommand.safeParse({ author_id: BigInt(viewer.id), text: body.text });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError("validation_failed", `invalid body field "text": ${issue.message}`, {
      errors: [{ location: "body", path: "text", message: issue.message }],
    });
  }
  // The image is checked before anything is written, and its bytes (not the File object) make
  // the request's fingerprint: the same key with another picture is another request.
  const image = body.image ? await checkImage(deps.config, body.image, "image") : null;
  if (image && !deps.storage)
    throw new AppError("not_ready", "media storage is not configured (S3_ENDPOINT, S3_KEY, S3_SECRET)");
  const fingerprintBody = {
    text: body.text,
    image_sha256: image?.sha256 ?? null,
  };

  let stored: string | null = null;
  // The new post as committed, for the answer: built from it and the viewer's card, not read back.
  let created: CachedPost | null = null;
  try {
    const out = await runCommand<WirePost>(
      deps,
      { userId: viewer.id, route: "POST /posts", key: idempotencyKey, required: true, body: fingerprintBody },
      async (tx) => {
        const post = await insertPost(tx, viewer.id, parsed.data.text);
        // The fields hydration reads (db/feed.ts hydrationRows), so the cached copy is the same.
        created = {
          id: post.id,
          author_id: post.author_id,
          text: post.text,
          image_key: null,
          image_width: null,
          image_height: null,
          image_variants: null,
        };
        const events: DraftEvent[] = [
          {
            type: "PostCreated",
            actorId: viewer.id,
            payload: {
              post_id: post.id,
              author_id: viewer.id,
              created_at: new Date(timestampOf(post.id)).toISOString(),
            },
          },
        ];
        if (image && deps.storage) {
          const key = mediaKeys.postImage(post.id, mediaFilename(image.type));
          await deps.storage.put(key, image.bytes, image.mime);
          stored = key;
          await attachPostImage(tx, {
            postId: post.id,
            authorId: viewer.id,
            key,
            width: image.width,
            height: image.height,
          });
          created = { ...created, image_key: key, image_width: image.width, image_height: image.height };
          events.push({
            type: "PostImageUploaded",
            actorId: viewer.id,
            payload: { post_id: post.id, author_id: viewer.id, key, previous_key: null },
          });
        }
        return {
          status: 201,
          // Stored for replays without presigned URLs (they would expire first); the answer
          // below is hydrated fresh.
          body: presentPost(deps, post, viewer, { at: timestampOf(post.id), likeCount: 0, likedByMe: false }),
          events,
          // The body and its zero count in Redis, as a read would leave them: its followers'
          // first pages then find it there.
          updateCaches: async () => {
            if (!created) return;
            const ttl = deps.config.CACHE_TTL_SECONDS;
            await Promise.all([
              cachePosts(deps.redis, [created], ttl),
              cacheLikeCounts(deps.redis, [{ post_id: created.id, like_count: 0 }], ttl),
            ]).catch(() => {});
          },
        };
      },
    );
    if (!out.replayed && created) {
      // No statement to answer: nobody can have liked it yet, and its thumbnail comes later.
      const post: CachedPost = created;
      const { urls } = await signedUrls(deps, [...userMediaKeys(viewer), ...postMediaKeys(post)]);
      return { ...out, body: presentPost(deps, post, viewer, { likeCount: 0, likedByMe: false }, urls) };
    }
    // A replay: the stored answer has no presigned URLs (they would have expired), and the post
    // may have been liked since.
    const [fresh] = await hydratePosts(deps, viewer.id, [out.body.id]);
    return { ...out, body: fresh ?? out.body };
  } catch (e) {
    // The transaction rolled back: nothing points at the object it wrote.
    if (stored) await deps.storage?.delete(stored).catch(() => {});
    throw e;
  }
}
