import { Elysia } from "elysia";
import type { Deps } from "../deps.ts";
import { hydrateRendered } from "../hydrate/hydrate-posts.ts";
import { jsonWithEtag, renderPage } from "../hydrate/render.ts";
import { bearerSecurity, requireAuth } from "../plugins/auth.ts";
import { PageQuery, PageSchema, problems } from "../schemas.ts";
import { feedSkeleton } from "./skeleton.ts";

// GET /feed: skeleton (ids) → hydration (bodies from memory, counts and liked flags) →
// presentation (rendered JSON, concatenated), answered as ready bytes with an ETag.

export const feedRoutes = (deps: Deps) =>
  new Elysia().use(requireAuth(deps)).get(
    "/feed",
    async ({ viewer, query, request, set }) => {
      const skeleton = await feedSkeleton(deps, viewer.id, query.limit ?? 20, query.cursor);
      const items = await hydrateRendered(deps, viewer.id, skeleton.ids, skeleton.known);
      return jsonWithEtag(request, set, renderPage(items, skeleton.nextCursor));
    },
    {
      query: PageQuery,
      response: { 200: PageSchema, ...problems(400, 401) },
      detail: {
        summary: "Your personal feed, newest first (ETag; If-None-Match answers 304)",
        tags: ["feed"],
        security: bearerSecurity,
      },
    },
  );
