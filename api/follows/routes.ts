import { Elysia, t } from "elysia";
import { answer, answerNoContent } from "../commands/run-command.ts";
import type { Deps } from "../deps.ts";
import { bearerSecurity, requireAuth } from "../plugins/auth.ts";
import { checkId, Id, IdempotencyHeaders, NoQuery, problems } from "../schemas.ts";
import { followUser } from "./follow-user.ts";
import { unfollowUser } from "./unfollow-user.ts";

const FollowSchema = t.Object({ user_id: Id, following: t.Boolean() });

export const followRoutes = (deps: Deps) =>
  new Elysia()
    .use(requireAuth(deps))
    .post(
      "/follows",
      async ({ viewer, body, headers, set }) =>
        answer(
          await followUser(
            deps,
            viewer,
            checkId(body.user_id, "user_id", "body"),
            headers["idempotency-key"],
          ),
          set,
        ),
      {
        body: t.Object({ user_id: Id }, { additionalProperties: false }),
        headers: IdempotencyHeaders,
        query: NoQuery,
        response: { 200: FollowSchema, 201: FollowSchema, ...problems(400, 401, 404, 409, 415, 422) },
        detail: {
          summary: "Follow a user (201 new, 200 already following)",
          tags: ["follows"],
          security: bearerSecurity,
        },
      },
    )
    .delete(
      "/follows/:user_id",
      async ({ viewer, params, headers, set }) =>
        answerNoContent(
          await unfollowUser(deps, viewer, checkId(params.user_id, "user_id"), headers["idempotency-key"]),
          set,
        ),
      {
        params: t.Object({ user_id: Id }),
        headers: IdempotencyHeaders,
        query: NoQuery,
        response: { 204: t.Null(), ...problems(400, 401, 404, 409, 422) },
        detail: { summary: "Unfollow a user", tags: ["follows"], security: bearerSecurity },
      },
    );
