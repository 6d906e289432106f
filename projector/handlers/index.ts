import { onAvatarUpdated } from "./avatar-updated.ts";
import { onLikeEvents } from "./like-counts.ts";
import { onPostCreated, onPostsCreated } from "./post-created.ts";
import { onPostImageUploaded } from "./post-image-uploaded.ts";
import { onPostLiked } from "./post-liked.ts";
import { onPostUnliked } from "./post-unliked.ts";
import type { BatchHandlerMap, HandlerMap } from "./types.ts";
import { onUserFollowed } from "./user-followed.ts";
import { onUserRegistered } from "./user-registered.ts";
import { onUserUnfollowed } from "./user-unfollowed.ts";

/** The projector group's handlers: feed fan-out, backfill and cleanup, counters, caches. */
export const projectorHandlers: HandlerMap = {
  PostCreated: onPostCreated,
  PostLiked: onPostLiked,
  PostUnliked: onPostUnliked,
  UserFollowed: onUserFollowed,
  UserUnfollowed: onUserUnfollowed,
  UserRegistered: onUserRegistered,
  PostImageUploaded: onPostImageUploaded,
  AvatarUpdated: onAvatarUpdated,
};

/** What the projector group handles a read's worth at a time (then by the handlers above). */
export const projectorBatchHandlers: BatchHandlerMap = {
  PostCreated: onPostsCreated,
  PostLiked: onLikeEvents,
  PostUnliked: onLikeEvents,
};
