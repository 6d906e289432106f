import { t } from "elysia";
import { AppError } from "../core/errors.ts";
import { parseId } from "../core/ids.ts";

// Wire schemas shared by the routes; the OpenAPI document is generated from them.

/** Elysia's `set`, as an operation that answers a status or headers of its own takes it. */
export interface ResponseSet {
  status?: number | string;
  headers: Record<string, string | number>;
}

export const Id = t.String({
  pattern: "^[1-9][0-9]{0,18}$",
  description: "64-bit id as a decimal string",
  examples: ["7312950014423042"],
});

export const UserSchema = t.Object({
  id: Id,
  handle: t.String(),
  display_name: t.String(),
  avatar_url: t.Nullable(t.String()),
  avatar_thumb_url: t.Nullable(t.String({ description: "a square WebP of 128 px, once made" })),
});

export const ProfileSchema = t.Object({
  id: Id,
  handle: t.String(),
  display_name: t.String(),
  avatar_url: t.Nullable(t.String()),
  avatar_thumb_url: t.Nullable(t.String({ description: "a square WebP of 128 px, once made" })),
  followers_count: t.Integer(),
  following_count: t.Integer(),
  posts_count: t.Integer(),
  followed_by_me: t.Boolean(),
});

export const ImageSchema = t.Object({
  url: t.String(),
  thumb_url: t.Nullable(t.String()),
  width: t.Nullable(t.Integer()),
  height: t.Nullable(t.Integer()),
});

export const PostSchema = t.Object({
  id: Id,
  author: UserSchema,
  text: t.String(),
  created_at: t.String({ format: "date-time" }),
  image: t.Nullable(ImageSchema),
  like_count: t.Integer(),
  liked_by_me: t.Boolean(),
});

export const PageSchema = t.Object({
  items: t.Array(PostSchema),
  next_cursor: t.Nullable(
    t.String({ description: "the cursor of the page's oldest item, to read older posts" }),
  ),
  prev_cursor: t.Nullable(
    t.String({
      description:
        "the cursor of the page's newest item, to read newer posts (after=); on an empty after= page, that after; null on an empty page",
    }),
  ),
  has_newer: t.Boolean({
    description:
      "an after= page only: more posts newer than this page remain (ask again with after=prev_cursor)",
  }),
});

export const ProblemSchema = t.Object(
  {
    type: t.String(),
    title: t.String(),
    status: t.Integer(),
    detail: t.String(),
    code: t.String(),
    instance: t.Optional(t.String()),
    request_id: t.Optional(t.String()),
    errors: t.Optional(t.Array(t.Object({ location: t.String(), path: t.String(), message: t.String() }))),
  },
  { description: "RFC 9457 problem details" },
);

export const PageQuery = t.Object(
  {
    limit: t.Optional(t.Integer({ minimum: 1, maximum: 100, default: 20, description: "page size, 1–100" })),
    cursor: t.Optional(
      t.String({ maxLength: 128, description: "opaque cursor from next_cursor: older posts" }),
    ),
    after: t.Optional(
      t.String({
        maxLength: 128,
        description:
          "opaque cursor (prev_cursor, or any item's cursor): the posts newer than it, the ones right after it, newest first; not with cursor",
      }),
    ),
  },
  { additionalProperties: false },
);

export const IdParams = t.Object({ id: Id });

/** The body of the routes that store an image: a multipart file, or a direct upload's key. */
export const ImageBody = t.Object(
  {
    file: t.Optional(t.File({ description: "multipart: JPEG, PNG or WebP, at most 5 MB" })),
    upload_key: t.Optional(
      t.String({ maxLength: 512, description: "JSON: the key of a direct upload (POST /uploads)" }),
    ),
  },
  { additionalProperties: false },
);

/** For routes that take no query parameters: any is refused, as unknown fields are. */
export const NoQuery = t.Object({}, { additionalProperties: false });

export const IdempotencyHeaders = t.Object({
  "idempotency-key": t.Optional(
    t.String({ description: "unique per request; the response is replayed for 24 hours" }),
  ),
});

/** Problem responses a route may answer, for the OpenAPI document. */
export const problems = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, ProblemSchema]));

/**
 * The Id pattern admits 19-digit numbers past the int64 range; this rejects those with the same
 * 400 a malformed id gets, before they reach PostgreSQL.
 */
export function checkId(raw: string, field: string, location: "body" | "params" = "params"): string {
  if (!parseId(raw)) {
    const message = "must be a positive 64-bit integer written as a decimal string";
    throw new AppError("validation_failed", `invalid ${location} field "${field}": ${message}`, {
      errors: [{ location, path: field, message }],
    });
  }
  return raw;
}
