import { decodeCursor } from "../../core/cursor.ts";
import { AppError } from "../../core/errors.ts";
import { authorPostIds, authorPostIdsNewer } from "../../db/posts.ts";
import { userExists } from "../../db/users.ts";
import type { Deps } from "../deps.ts";
import { oneDirection, pageCursors } from "../feed/newer.ts";
import { hydrateRendered } from "../hydrate/hydrate-posts.ts";
import { jsonWithEtag, renderPage } from "../hydrate/render.ts";
import type { Viewer } from "../plugins/auth.ts";
import { checkId, type ResponseSet } from "../schemas.ts";

/**
 * GET /users/{id}/posts: the author's posts, newest first; older ones with `cursor`, newer ones
 * with `after`. Ready JSON with an ETag, as GET /feed answers (api/hydrate/render.ts).
 */
export async function listUserPosts(
  deps: Deps,
  viewer: Viewer,
  rawId: string,
  query: { limit?: number; cursor?: string; after?: string },
  request: Request,
  set: ResponseSet,
): Promise<Response> {
  const id = checkId(rawId, "id");
  const limit = query.limit ?? 20;
  oneDirection(query);
  const after = query.cursor ? decodeCursor("user_posts", query.cursor) : null;
  const newer = query.after ? decodeCursor("user_posts", query.after) : null;
  if (!(await userExists(deps.sql, id))) throw new AppError("user_not_found", `user ${id} does not exist`);
  if (newer) {
    // Oldest first from PostgreSQL, the page shown newest first.
    const asc = await authorPostIdsNewer(deps.sql, id, newer, limit + 1);
    const page = asc.slice(0, limit).reverse();
    const items = await hydrateRendered(deps, viewer.id, page);
    const { next, prev } = pageCursors("user_posts", page, true);
    return jsonWithEtag(
      request,
      set,
      renderPage(items, next ?? query.after!, prev ?? query.after!, asc.length > limit),
    );
  }
  const ids = await authorPostIds(deps.sql, id, after, limit + 1);
  const page = ids.slice(0, limit);
  const items = await hydrateRendered(deps, viewer.id, page);
  const { next, prev } = pageCursors("user_posts", page, ids.length > limit);
  return jsonWithEtag(request, set, renderPage(items, next, prev));
}
