import { keys } from "../../core/redis-keys.ts";
import { backfillFollow, bumpUserStats, markProcessed } from "../../db/projections.ts";
import type { Handler } from "./types.ts";

/**
 * UserFollowedEvent: counters move once; the followee's newest posts join the follower's feed
 * if the follow still stands (an unfollow may already have happened: converge on the write
 * model, not on arrival order). The follower's cached head and pull list are dropped so the
 * next read rebuilds them with the backfilled posts.
 */
export const onUserFollowed: Handler<"UserFollowed"> = async (deps, event) => {
  const { follower_id: follower, followee_id: followee } = event.payload;
  await deps.sql.begin(async (tx) => {
    if (await markProcessed(tx, deps.group, event.id)) {
      await bumpUserStats(tx, follower, { following: 1 });
      await bumpUserStats(tx, followee, { followers: 1 });
    }
    await backfillFollow(tx, follower, followee, deps.config.FOLLOW_BACKFILL_POSTS);
  });
  await deps.redis.del(keys.feedHead(follower), keys.pullFollows(follower));
};
