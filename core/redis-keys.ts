// Every Redis key the services use, in one place. Streams and the DLQ have no TTL (they are
// trimmed); every cache key is written with a TTL.

export const keys = {
  stream: (partition: number) => `feed:events:${partition}`,
  dlq: "feed:dlq",
  /** Sorted set of the newest post ids of a user's feed; score = created_at millis. */
  feedHead: (userId: string) => `feed:head:${userId}`,
  /** Sorted set of an author's newest posts, for pull (celebrity) authors merged at read time. */
  authorPosts: (authorId: string) => `author:posts:${authorId}`,
  /** The pull authors a user follows (JSON array), cached per reader. */
  pullFollows: (userId: string) => `feed:pull:${userId}`,
  post: (postId: string) => `post:${postId}`,
  postStats: (postId: string) => `post:stats:${postId}`,
  user: (userId: string) => `user:${userId}`,
  popular: "posts:popular",
  /** A sign-in state already redeemed at the callback (single use). */
  usedLoginState: (state: string) => `auth:state:${state}`,
} as const;

/** Marker member so an empty feed still has a head key (pushes only go to existing heads). */
export const HEAD_SENTINEL = "0";
