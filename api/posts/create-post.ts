import { CreatePostCommand } from "../../core/commands.ts";
import { AppError } from "../../core/errors.ts";
import { timestampOf } from "../../core/ids.ts";
import { insertPost } from "../../db/posts.ts";
import { runCommand } from "../commands/run-command.ts";
import type { Deps } from "../deps.ts";
import { mediaUrls, presentPost, presentUser, type WirePost } from "../hydrate/present.ts";
import type { Viewer } from "../plugins/auth.ts";

/** CreatePostCommand → posts row + PostCreatedEvent. Posts are immutable once written. */
export async function createPost(
  deps: Deps,
  viewer: Viewer,
  body: { text: string },
  idempotencyKey: string | undefined,
) {
  const parsed = CreatePostCommand.safeParse({ author_id: BigInt(viewer.id), text: body.text });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError("validation_failed", `invalid body field "text": ${issue.message}`, {
      errors: [{ location: "body", path: "text", message: issue.message }],
    });
  }
  const out = await runCommand<WirePost>(
    deps,
    { userId: viewer.id, route: "POST /posts", key: idempotencyKey, required: true, body },
    async (tx) => {
      const post = await insertPost(tx, viewer.id, parsed.data.text);
      return {
        status: 201,
        body: presentPost(deps, post, viewer, { at: timestampOf(post.id), likeCount: 0, likedByMe: false }),
        events: [
          {
            type: "PostCreated",
            actorId: viewer.id,
            payload: {
              post_id: post.id,
              author_id: viewer.id,
              created_at: new Date(timestampOf(post.id)).toISOString(),
            },
          },
        ],
      };
    },
  );
  // The stored response carries no presigned URL (it would expire before a replay): the
  // author's avatar URL is made fresh for every answer.
  const urls = await mediaUrls(deps, [viewer.avatar_key]);
  return { ...out, body: { ...out.body, author: presentUser(deps, viewer, urls) } };
}
