import { Elysia } from "elysia";
import type { Deps } from "../deps.ts";
import { authBeforeBody, bearerSecurity, requireAuth } from "../plugins/auth.ts";
import { jsonOrForm } from "../plugins/limits.ts";
import {
  checkId,
  IdParams,
  ImageBody,
  NoQuery,
  PageQuery,
  PageSchema,
  ProfileSchema,
  problems,
  UserSchema,
} from "../schemas.ts";
import { getProfile } from "./get-profile.ts";
import { listUserPosts } from "./list-user-posts.ts";
import { updateAvatar } from "./update-avatar.ts";

// GET /me, GET /users/{id}, GET /users/{id}/posts; PUT /me/avatar (avatarRoutes).

export const userRoutes = (deps: Deps) =>
  new Elysia()
    .use(requireAuth(deps))
    .get("/me", ({ viewer }) => getProfile(deps, viewer.id, viewer.id), {
      query: NoQuery,
      response: { 200: ProfileSchema, ...problems(401) },
      detail: { summary: "Your own profile", tags: ["users"], security: bearerSecurity },
    })
    .get("/users/:id", ({ viewer, params }) => getProfile(deps, checkId(params.id, "id"), viewer.id), {
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
      ({ viewer, params, query, request, set }) =>
        listUserPosts(deps, viewer, params.id, query, request, set),
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

/**
 * PUT /me/avatar, apart from userRoutes only for its place in the OpenAPI document (and so in
 * the typed client): createApp registers it after PUT /posts/{id}/image.
 */
export const avatarRoutes = (deps: Deps) =>
  new Elysia()
    .use(requireAuth(deps))
    .put("/me/avatar", ({ viewer, body }) => updateAvatar(deps, viewer, body), {
      parse: [authBeforeBody(deps), ...jsonOrForm],
      body: ImageBody,
      query: NoQuery,
      response: { 200: UserSchema, ...problems(400, 401, 413, 415, 503) },
      detail: {
        summary: "Replace your avatar (multipart file); the old object is deleted",
        tags: ["media"],
        security: bearerSecurity,
      },
    });
