import { Elysia, t } from "elysia";
import { answer, answerNoContent } from "../commands/run-command.ts";
import type { Deps } from "../deps.ts";
import { bearerSecurity, requireAuth } from "../plugins/auth.ts";
import { checkId, Id, IdempotencyHeaders, NoQuery, problems } from "../schemas.ts";
import { likePost } from "./like-post.ts";
import { unlikePost } from "./unlike-post.ts";

const LikeSchema = t.Object({ post_id: Id, liked: t.Boolean() });

export const likeRoutes = (deps: Deps) =>
  new Elysia()
    .use(requireAuth(deps))
    .post(
      "/likes",
      async ({ viewer, body, headers, set }) =>
        answer(
          await likePost(deps, viewer, checkId(body.post_id, "post_id", "body"), headers["idempotency-key"]),
          set,
        ),
      {
        body: t.Object({ post_id: Id }, { additionalProperties: false }),
        headers: IdempotencyHeaders,
        query: NoQuery,
        response: { 200: LikeSchema, 201: LikeSchema, ...problems(400, 401, 404, 409, 415, 422) },
        detail: {
          summary: "Like a post (201 new, 200 already liked)",
          tags: ["likes"],
          security: bearerSecurity,
        },
      },
    )
    .delete(
      "/likes/:post_id",
      async ({ viewer, params, headers, set }) =>
        answerNoContent(
          await unlikePost(deps, viewer, checkId(params.post_id, "post_id"), headers["idempotency-key"]),
          set,
        ),
      {
        params: t.Object({ post_id: Id }),
        headers: IdempotencyHeaders,
        query: NoQuery,
        response: { 204: t.Null(), ...problems(400, 401, 404, 409, 422) },
        detail: { summary: "Unlike a post", tags: ["likes"], security: bearerSecurity },
      },
    );
