import { keys } from "../../core/redis-keys.ts";
import { bumpUserStats, markProcessed, removeAuthorFromFeed } from "../../db/projections.ts";
import type { Handler } from "./types.ts";

/**
 * UserUnfollowedEvent: one delete on (user_id, author_id), skipped when the user follows the
 * author again by now (follow → unfollow → follow converges on the last state).
 */
export const onUserUnfollowed: Handler<"UserUnfollowed"> = async (deps, event) => {
  const { follower_id: follower, followee_id: followee } = event.payload;
  await deps.sql.begin(async (tx) => {
    if (await markProcessed(tx, deps.group, event.id)) {
      await bumpUserStats(tx, follower, { following: -1 });
      await bumpUserStats(tx, followee, { followers: -1 });
    }
    await removeAuthorFromFeed(tx, follower, followee);
  });
  await deps.redis.del(keys.feedHead(follower), keys.pullFollows(follower));
};
