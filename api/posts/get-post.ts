import { AppError } from "../../core/errors.ts";
import type { Deps } from "../deps.ts";
import { hydratePosts } from "../hydrate/hydrate-posts.ts";
import type { WirePost } from "../hydrate/present.ts";
import type { Viewer } from "../plugins/auth.ts";
import { checkId } from "../schemas.ts";

/** GET /posts/{id}: one post, hydrated for the viewer. */
export async function getPost(deps: Deps, viewer: Viewer, rawId: string): Promise<WirePost> {
  const [post] = await hydratePosts(deps, viewer.id, [checkId(rawId, "id")]);
  if (!post) throw new AppError("post_not_found", `post ${rawId} does not exist`);
  return post;
}
