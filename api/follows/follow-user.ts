import { FollowUserCommand } from "../../core/commands.ts";
import { AppError } from "../../core/errors.ts";
import { deleteFollow, insertFollow } from "../../db/graph.ts";
import { userExists } from "../../db/users.ts";
import { runCommand } from "../commands/run-command.ts";
import type { Deps } from "../deps.ts";
import type { Viewer } from "../plugins/auth.ts";

export interface FollowState {
  user_id: string;
  following: boolean;
}

/** FollowUserCommand → follows row + UserFollowedEvent; following twice is a no-op (200). */
export function followUser(deps: Deps, viewer: Viewer, targetId: string, idempotencyKey: string | undefined) {
  if (
    !FollowUserCommand.safeParse({ follower_id: BigInt(viewer.id), followee_id: BigInt(targetId) }).success
  ) {
    throw new AppError("self_follow", "you cannot follow yourself");
  }
  return runCommand<FollowState>(
    deps,
    {
      userId: viewer.id,
      route: "POST /follows",
      key: idempotencyKey,
      required: false,
      body: { user_id: targetId },
    },
    async (tx) => {
      if (!(await userExists(tx, targetId)))
        throw new AppError("user_not_found", `user ${targetId} does not exist`);
      const created = await insertFollow(tx, viewer.id, targetId);
      return {
        status: created ? 201 : 200,
        body: { user_id: targetId, following: true },
        events: created
          ? [
              {
                type: "UserFollowed",
                actorId: viewer.id,
                payload: { follower_id: viewer.id, followee_id: targetId },
              },
            ]
          : [],
      };
    },
  );
}

/** UnfollowUserCommand → the row goes + UserUnfollowedEvent; unfollowing a stranger is a no-op. */
export function unfollowUser(
  deps: Deps,
  viewer: Viewer,
  targetId: string,
  idempotencyKey: string | undefined,
) {
  return runCommand<FollowState>(
    deps,
    {
      userId: viewer.id,
      route: "DELETE /follows/:user_id",
      key: idempotencyKey,
      required: false,
      body: { user_id: targetId },
    },
    async (tx) => {
      if (!(await userExists(tx, targetId)))
        throw new AppError("user_not_found", `user ${targetId} does not exist`);
      const deleted = await deleteFollow(tx, viewer.id, targetId);
      return {
        status: 204,
        body: { user_id: targetId, following: false },
        events: deleted
          ? [
              {
                type: "UserUnfollowed",
                actorId: viewer.id,
                payload: { follower_id: viewer.id, followee_id: targetId },
              },
            ]
          : [],
      };
    },
  );
}
