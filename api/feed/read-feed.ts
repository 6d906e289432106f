import { decodeCursor } from "../../core/cursor.ts";
import type { Deps } from "../deps.ts";
import { hydrateRendered } from "../hydrate/hydrate-posts.ts";
import { jsonWithEtag, renderPage } from "../hydrate/render.ts";
import type { Viewer } from "../plugins/auth.ts";
import type { ResponseSet } from "../schemas.ts";
import { newerFromTop, oneDirection, pageCursors } from "./newer.ts";
import { feedSkeleton } from "./skeleton.ts";

/**
 * GET /feed: skeleton (ids) → hydration (bodies from memory, counts and liked flags) →
 * presentation (rendered JSON, concatenated), answered as ready bytes with an ETag. Older posts
 * with `cursor`, newer ones with `after`.
 */
export async function readFeed(
  deps: Deps,
  viewer: Viewer,
  query: { limit?: number; cursor?: string; after?: string },
  request: Request,
  set: ResponseSet,
): Promise<Response> {
  oneDirection(query);
  const limit = query.limit ?? 20;
  if (query.after !== undefined) {
    const after = decodeCursor("feed", query.after);
    const { ids, hasNewer } = await newerFromTop(after, limit, deps.config.FEED_MAX_ITEMS + limit, (c, n) =>
      feedSkeleton(deps, viewer.id, n, c),
    );
    const items = await hydrateRendered(deps, viewer.id, ids);
    // An empty page keeps the client where it was.
    const { next, prev } = pageCursors("feed", ids, true);
    return jsonWithEtag(request, set, renderPage(items, next ?? query.after, prev ?? query.after, hasNewer));
  }
  const skeleton = await feedSkeleton(deps, viewer.id, limit, query.cursor);
  const items = await hydrateRendered(deps, viewer.id, skeleton.ids, skeleton.known);
  const { prev } = pageCursors("feed", skeleton.ids, false);
  return jsonWithEtag(request, set, renderPage(items, skeleton.nextCursor, prev));
}
