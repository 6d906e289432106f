import { AppError } from "../../core/errors.ts";
import type { Tx } from "../../db/client.ts";
import { deleteFollow, insertFollow } from "../../db/graph.ts";
import { userExists } from "../../db/users.ts";
import { FollowUserCommand } from "../commands/commands.ts";
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
  return changeFollow(deps, viewer, targetId, idempotencyKey, {
    route: "POST /follows",
    following: true,
    event: "UserFollowed",
    change: insertFollow,
    status: (created) => (created ? 201 : 200),
  });
}

/** UnfollowUserCommand → the row goes + UserUnfollowedEvent; unfollowing a stranger is a no-op. */
export function unfollowUser(
  deps: Deps,
  viewer: Viewer,
  targetId: string,
  idempotencyKey: string | undefined,
) {
  return changeFollow(deps, viewer, targetId, idempotencyKey, {
    route: "DELETE /follows/:user_id",
    following: false,
    event: "UserUnfollowed",
    change: deleteFollow,
    status: () => 204,
  });
}

/**
 * Both commands: the target must exist; the row changes (or was already so: no event), in the
 * command's transaction with its Idempotency-Key.
 */
function changeFollow(
  deps: Deps,
  viewer: Viewer,
  targetId: string,
  idempotencyKey: string | undefined,
  c: {
    route: string;
    following: boolean;
    event: "UserFollowed" | "UserUnfollowed";
    change: (tx: Tx, followerId: string, followeeId: string) => Promise<boolean>;
    status: (changed: boolean) => number;
  },
) {
  return runCommand<FollowState>(
    deps,
    { userId: viewer.id, route: c.route, key: idempotencyKey, required: false, body: { user_id: targetId } },
    async (tx) => {
      if (!(await userExists(tx, targetId)))
        throw new AppError("user_not_found", `user ${targetId} does not exist`);
      const changed = await c.change(tx, viewer.id, targetId);
      return {
        status: c.status(changed),
        body: { user_id: targetId, following: c.following },
        events: changed
          ? [
              {
                type: c.event,
                actorId: viewer.id,
                payload: { follower_id: viewer.id, followee_id: targetId },
              },
            ]
          : [],
      };
    },
  );
}
