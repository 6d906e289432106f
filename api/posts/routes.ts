import { Elysia, t } from "elysia";
import { POST_TEXT_MAX } from "../../core/commands.ts";
import { AppError } from "../../core/errors.ts";
import { answer } from "../commands/run-command.ts";
import type { Deps } from "../deps.ts";
import { hydratePosts, hydrateRendered } from "../hydrate/hydrate-posts.ts";
import { jsonWithEtag, renderPage } from "../hydrate/render.ts";
import { authBeforeBody, bearerSecurity, requireAuth } from "../plugins/auth.ts";
import { jsonOrForm } from "../plugins/limits.ts";
import { checkId, IdempotencyHeaders, IdParams, NoQuery, PostSchema, problems } from "../schemas.ts";
import { createPost } from "./create-post.ts";
import { popularIds } from "./read-popular.ts";

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
      async ({ viewer, query, request, set }) => {
        const items = await hydrateRendered(deps, viewer.id, await popularIds(deps, query.limit ?? 20));
        return jsonWithEtag(request, set, renderPage(items, null));
      },
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
    .get(
      "/posts/:id",
      async ({ viewer, params }) => {
        const [post] = await hydratePosts(deps, viewer.id, [checkId(params.id, "id")]);
        if (!post) throw new AppError("post_not_found", `post ${params.id} does not exist`);
        return post;
      },
      {
        params: IdParams,
        query: NoQuery,
        response: { 200: PostSchema, ...problems(400, 401, 404) },
        detail: { summary: "One post", tags: ["posts"], security: bearerSecurity },
      },
    );
