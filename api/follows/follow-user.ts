import { AppError } from "../../core/errors.ts";
import { insertFollow } from "../../db/graph.ts";
import { FollowUserCommand } from "../commands/commands.ts";
import type { Deps } from "../deps.ts";
import type { Viewer } from "../plugins/auth.ts";
import { changeFollow } from "./change-follow.ts";

/** POST /follows: FollowUserCommand → follows row + UserFollowed; following twice is a no-op (200). */
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
