import { z } from "zod";

// Commands are what the write side is asked to do. The HTTP layer validates the wire shape
// (Elysia schemas); these schemas are the domain rules that every caller, not just HTTP, meets.

const id = z.bigint().positive();

export const POST_TEXT_MAX = 500;

/** NUL cannot be stored, and the other C0 controls and DEL (but tab and line breaks) are never text. */
function hasControlCharacters(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return true;
  }
  return false;
}

export const CreatePostCommand = z.object({
  author_id: id,
  text: z
    .string()
    .transform((s) => s.trim())
    .pipe(
      z
        .string()
        .min(1, "text must not be empty after trimming")
        .refine((s) => !hasControlCharacters(s), "text must not contain control characters")
        // A lone surrogate (JSON's "\ud800") is no character: PostgreSQL's jsonb refuses it, and
        // a text column would keep a replacement character instead of what was sent.
        .refine((s) => s.isWellFormed(), "text must be well-formed Unicode (no lone surrogates)")
        .refine((s) => [...s].length <= POST_TEXT_MAX, `text must be at most ${POST_TEXT_MAX} characters`),
    ),
});
export const FollowUserCommand = z
  .object({ follower_id: id, followee_id: id })
  .refine((c) => c.follower_id !== c.followee_id, { message: "self_follow", path: ["followee_id"] });

export type CreatePostCommand = z.infer<typeof CreatePostCommand>;
export type FollowUserCommand = z.infer<typeof FollowUserCommand>;
