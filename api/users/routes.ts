import { Elysia } from "elysia";
import { decodeCursor, encodeCursor } from "../../core/cursor.ts";
import { AppError } from "../../core/errors.ts";
import { timestampOf } from "../../core/ids.ts";
import { authorPostIds, authorPostIdsNewer } from "../../db/posts.ts";
import { findProfile, type ProfileRow, userExists } from "../../db/users.ts";
import type { Deps } from "../deps.ts";
import { oneDirection, pageCursors } from "../feed/newer.ts";
import { hydrateRendered } from "../hydrate/hydrate-posts.ts";
import { mediaUrls, presentUser, userMediaKeys } from "../hydrate/present.ts";
import { jsonWithEtag, renderPage } from "../hydrate/render.ts";
import { bearerSecurity, requireAuth } from "../plugins/auth.ts";
import { checkId, IdParams, NoQuery, PageQuery, PageSchema, ProfileSchema, problems } from "../schemas.ts";

async function presentProfile(deps: Deps, row: ProfileRow) {
  return {
    ...presentUser(deps, row, await mediaUrls(deps, userMediaKeys(row))),
    followers_count: Math.max(0, Number(row.followers_count)),
    following_count: Math.max(0, Number(row.following_count)),
    posts_count: Math.max(0, Number(row.posts_count)),
    followed_by_me: row.followed_by_me,
  };
}

async function profileOrThrow(deps: Deps, id: string, viewerId: string) {
  const row = await findProfile(deps.sql, id, viewerId);
  if (!row) throw new AppError("user_not_found", `user ${id} does not exist`);
  return presentProfile(deps, row);
}

export const userRoutes = (deps: Deps) =>
  new Elysia()
    .use(requireAuth(deps))
    .get("/me", ({ viewer }) => profileOrThrow(deps, viewer.id, viewer.id), {
      query: NoQuery,
      response: { 200: ProfileSchema, ...problems(401) },
      detail: { summary: "Your own profile", tags: ["users"], security: bearerSecurity },
    })
    .get("/users/:id", ({ viewer, params }) => profileOrThrow(deps, checkId(params.id, "id"), viewer.id), {
      params: IdParams,
      query: NoQuery,
      response: { 200: ProfileSchema, ...problems(400, 401, 404) },
      detail: {
        summary: "A profile with counts and followed_by_me",
        tags: ["users"],
        security: bearerSecurity,
      },
    })
    .get(
      "/users/:id/posts",
      async ({ viewer, params, query, request, set }) => {
        const id = checkId(params.id, "id");
        const limit = query.limit ?? 20;
        oneDirection(query);
        const after = query.cursor ? decodeCursor("user_posts", query.cursor) : null;
        const newer = query.after ? decodeCursor("user_posts", query.after) : null;
        if (!(await userExists(deps.sql, id)))
          throw new AppError("user_not_found", `user ${id} does not exist`);
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
        const last = page[page.length - 1];
        const next =
          ids.length > limit && last ? encodeCursor("user_posts", { at: timestampOf(last), id: last }) : null;
        // Ready JSON, as GET /feed answers (api/hydrate/render.ts).
        return jsonWithEtag(
          request,
          set,
          renderPage(items, next, pageCursors("user_posts", page, false).prev),
        );
      },
      {
        params: IdParams,
        query: PageQuery,
        response: { 200: PageSchema, ...problems(400, 401, 404) },
        detail: {
          summary: "A user's posts, newest first: older with cursor, newer with after",
          tags: ["users"],
          security: bearerSecurity,
        },
      },
    );
