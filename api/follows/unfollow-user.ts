import { deleteFollow } from "../../db/graph.ts";
import type { Deps } from "../deps.ts";
import type { Viewer } from "../plugins/auth.ts";
import { changeFollow } from "./change-follow.ts";

/** DELETE /follows/{user_id}: the row goes + UserUnfollowed; unfollowing a stranger is a no-op. */
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
