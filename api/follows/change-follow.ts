import { AppError } from "../../core/errors.ts";
import type { Tx } from "../../db/client.ts";
import { userExists } from "../../db/users.ts";
import { runCommand } from "../commands/run-command.ts";
import type { Deps } from "../deps.ts";
import type { Viewer } from "../plugins/auth.ts";

export interface FollowState {
  user_id: string;
  following: boolean;
}

/**
 * Following and unfollowing: the target must exist; the row changes (or was already so: no
 * event), in the command's transaction with its Idempotency-Key.
 */
export function changeFollow(
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
