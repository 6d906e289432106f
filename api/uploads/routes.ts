import { Elysia, t } from "elysia";
import type { Deps } from "../deps.ts";
import { bearerSecurity, requireAuth } from "../plugins/auth.ts";
import { NoQuery, problems } from "../schemas.ts";
import { createUpload } from "./create-upload.ts";

// POST /uploads.

export const uploadRoutes = (deps: Deps) =>
  new Elysia()
    .use(requireAuth(deps))
    .post("/uploads", ({ viewer, body }) => createUpload(deps, viewer, body), {
      body: t.Object(
        {
          purpose: t.Union([t.Literal("avatar"), t.Literal("post_image")]),
          content_type: t.Union([t.Literal("image/jpeg"), t.Literal("image/png"), t.Literal("image/webp")]),
          size: t.Integer({ minimum: 1, description: "bytes; at most 5 MB" }),
        },
        { additionalProperties: false },
      ),
      query: NoQuery,
      response: {
        200: t.Object({
          url: t.String(),
          fields: t.Record(t.String(), t.String()),
          key: t.String(),
          expires_at: t.String(),
        }),
        ...problems(400, 401, 413, 415, 429, 503),
      },
      detail: {
        summary:
          "A presigned POST for a direct upload to S3 (size and type in its policy); attach its key afterwards",
        tags: ["media"],
        security: bearerSecurity,
      },
    });
