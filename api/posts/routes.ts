import { Elysia, t } from "elysia";
import { POST_TEXT_MAX } from "../commands/commands.ts";
import { answer } from "../commands/run-command.ts";
import type { Deps } from "../deps.ts";
import { authBeforeBody, bearerSecurity, requireAuth } from "../plugins/auth.ts";
import { jsonOrForm } from "../plugins/limits.ts";
import { IdempotencyHeaders, IdParams, ImageBody, NoQuery, PostSchema, problems } from "../schemas.ts";
import { attachImage } from "./attach-image.ts";
import { createPost } from "./create-post.ts";
import { getPost } from "./get-post.ts";
import { readPopular } from "./read-popular.ts";

// POST /posts, GET /posts/popular, GET /posts/{id}; PUT /posts/{id}/image (postImageRoutes).

export const postRoutes = (deps: Deps) =>
  new Elysia()
    .use(requireAuth(deps))
    .post(
      "/posts",
      async ({ viewer, body, headers, set }) =>
        answer(await createPost(deps, viewer, body, headers["idempotency-key"]), set),
      {
        body: t.Object(
          {
            text: t.String({
              maxLength: POST_TEXT_MAX * 4,
              description: `1–${POST_TEXT_MAX} characters after trimming`,
            }),
            image: t.Optional(t.File({ description: "multipart only: JPEG, PNG or WebP, at most 5 MB" })),
            upload_key: t.Optional(
              t.String({
                maxLength: 512,
                description: "JSON: the key of a direct upload (POST /uploads) to attach as the image",
              }),
            ),
          },
          { additionalProperties: false },
        ),
        parse: [authBeforeBody(deps), ...jsonOrForm],
        headers: IdempotencyHeaders,
        query: NoQuery,
        response: {
          200: PostSchema,
          201: PostSchema,
          ...problems(400, 401, 403, 404, 409, 413, 415, 422, 503),
        },
        detail: {
          summary:
            "Publish a post: JSON {text, upload_key?} or multipart text + image (requires Idempotency-Key)",
          tags: ["posts"],
          security: bearerSecurity,
        },
      },
    )
    .get(
      "/posts/popular",
      ({ viewer, query, request, set }) => readPopular(deps, viewer, query.limit ?? 20, request, set),
      {
        query: t.Object(
          { limit: t.Optional(t.Integer({ minimum: 1, maximum: 100, default: 20 })) },
          { additionalProperties: false },
        ),
        response: {
          200: t.Object({ items: t.Array(PostSchema), next_cursor: t.Null() }),
          ...problems(400, 401),
        },
        detail: { summary: "Most liked recent posts (cached)", tags: ["posts"], security: bearerSecurity },
      },
    )
    .get("/posts/:id", ({ viewer, params }) => getPost(deps, viewer, params.id), {
      params: IdParams,
      query: NoQuery,
      response: { 200: PostSchema, ...problems(400, 401, 404) },
      detail: { summary: "One post", tags: ["posts"], security: bearerSecurity },
    });

/**
 * PUT /posts/{id}/image, apart from postRoutes only for its place in the OpenAPI document (and
 * so in the typed client): createApp registers it after the users' routes.
 */
export const postImageRoutes = (deps: Deps) =>
  new Elysia()
    .use(requireAuth(deps))
    .put("/posts/:id/image", ({ viewer, params, body }) => attachImage(deps, viewer, params.id, body), {
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
    });
