import { AppError } from "../../core/errors.ts";
import { mediaFilename, mediaKeys } from "../../core/media.ts";
import { attachPostImage, findPostAuthor } from "../../db/posts.ts";
import type { Deps } from "../deps.ts";
import { hydratePosts } from "../hydrate/hydrate-posts.ts";
import { dropBodies } from "../hydrate/memory.ts";
import type { WirePost } from "../hydrate/present.ts";
import { bestEffort, storageOf, storeImage } from "../media/store-image.ts";
import { resolveImage } from "../media/validate-image.ts";
import type { Viewer } from "../plugins/auth.ts";
import { checkId } from "../schemas.ts";

/**
 * PUT /posts/{id}/image: UploadPostImageCommand → PostImageUploadedEvent. The new object is
 * stored as every image is (api/media/store-image.ts); the old one is deleted by the projector.
 */
export async function attachImage(
  deps: Deps,
  viewer: Viewer,
  rawId: string,
  body: { file?: File; upload_key?: string },
): Promise<WirePost> {
  storageOf(deps); // 503 before any work when S3 is not configured
  const postId = checkId(rawId, "id");
  const notYours = () => new AppError("post_not_found", `post ${postId} does not exist or is not yours`);
  // Ownership first: another user's post is a 404 before any byte is looked at.
  if ((await findPostAuthor(deps.sql, postId)) !== viewer.id) throw notYours();
  const image = await resolveImage(deps, viewer.id, body);
  const idem = {
    userId: viewer.id,
    route: "PUT /posts/:id/image",
    key: undefined,
    required: false,
    body: null,
  };
  await storeImage(deps, idem, image, async (tx, put) => {
    const key = mediaKeys.postImage(postId, mediaFilename(image.type));
    await put(key);
    const attached = await attachPostImage(tx, {
      postId,
      authorId: viewer.id,
      key,
      width: image.width,
      height: image.height,
    });
    if (!attached) throw notYours();
    return {
      status: 200,
      body: null,
      events: [
        {
          type: "PostImageUploaded",
          actorId: viewer.id,
          payload: { post_id: postId, author_id: viewer.id, key, previous_key: attached.previous },
        },
      ],
    };
  });
  await bestEffort(dropBodies(deps, { posts: [postId] }));
  const [post] = await hydratePosts(deps, viewer.id, [postId]);
  return post!;
}
