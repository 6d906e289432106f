import { AppError } from "../../core/errors.ts";
import { findProfile } from "../../db/users.ts";
import type { Deps } from "../deps.ts";
import { mediaUrls, presentUser, userMediaKeys } from "../hydrate/present.ts";

/** GET /me and GET /users/{id}: a profile with its counts and followed_by_me. */
export async function getProfile(deps: Deps, id: string, viewerId: string) {
  const row = await findProfile(deps.sql, id, viewerId);
  if (!row) throw new AppError("user_not_found", `user ${id} does not exist`);
  return {
    ...presentUser(row, await mediaUrls(deps, userMediaKeys(row))),
    followers_count: Math.max(0, Number(row.followers_count)),
    following_count: Math.max(0, Number(row.following_count)),
    posts_count: Math.max(0, Number(row.posts_count)),
    followed_by_me: row.followed_by_me,
  };
}
