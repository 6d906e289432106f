// Every Redis key the services use, in one place. Streams and the DLQ have no TTL (they are
// trimmed); every cache key is written with a TTL.
//
// Hash tags (the part in braces) decide a key's slot on a Redis Cluster: keys that one command
// or one MULTI names together share a tag. A stream partition is its own tag; every key of a
// user (feed head, pull list, seen mark, card, author cache, liked set) carries the user's id, so
// the feed skeleton reads a reader's keys in one MULTI; a post's body and its count share the post's id
// (hydration then needs one MGET per post's slot). The DLQ and the popular set are single keys.
// On a standalone Redis tags change nothing.

export const keys = {
  stream: (partition: number) => `feed:events:{${partition}}`,
  dlq: "feed:dlq",
  /** Sorted set of the newest post ids of a user's feed; score = created_at millis. */
  feedHead: (userId: string) => `feed:head:{${userId}}`,
  /** Sorted set of an author's newest posts, for pull (celebrity) authors merged at read time. */
  authorPosts: (authorId: string) => `author:posts:{${authorId}}`,
  /** The pull authors a user follows (JSON array), cached per reader. */
  pullFollows: (userId: string) => `feed:pull:{${userId}}`,
  /** Set for a day after a reader's first feed read of the day (feed_readers is written then). */
  readerSeen: (userId: string) => `feed:seen:{${userId}}`,
  /** Set of every post id a user has liked, with a marker member (core/liked-set.ts). */
  likedPosts: (userId: string) => `user:liked:{${userId}}`,
  post: (postId: string) => `post:{${postId}}`,
  postStats: (postId: string) => `post:stats:{${postId}}`,
  user: (userId: string) => `user:{${userId}}`,
  popular: "posts:popular",
  /** A rate-limit subject's theoretical arrival time (GCRA), per policy. */
  rate: (policy: string, subject: string) => `rate:${policy}:${subject}`,
  /** A sign-in state already redeemed at the callback (single use). */
  usedLoginState: (state: string) => `auth:state:${state}`,
  /** A one-time sign-in code, by its SHA-256 (the code itself is never stored). */
  authCode: (hash: string) => `auth:code:${hash}`,
} as const;

/**
 * Marker members of an id set (feed head or author cache), scored +inf: "0" marks a set that is
 * complete (and keeps an empty one alive, since pushes only go to existing sets); a negative
 * number, unique to one rebuild (buildToken), marks one being rebuilt from PostgreSQL, which
 * pushes already reach but readers do not trust. Post ids are positive.
 */
export const HEAD_SENTINEL = "0";

/** Whether a member of an id set is one of its markers rather than a post id. */
export const isIdSetMarker = (id: string): boolean => id === HEAD_SENTINEL || id.startsWith("-");

/**
 * A rebuild's marker: 63 random bits, negated, so never a post id and still an integer (a small
 * set stays compact). Unique per rebuild, so that a rebuild whose set was dropped meanwhile
 * cannot finish into the set a later rebuild began (it would bring back what the drop removed).
 */
export const buildToken = (): string => `-${(crypto.getRandomValues(new BigUint64Array(1))[0]! >> 1n) + 1n}`;

/**
 * Marker members of a liked set (core/liked-set.ts); post ids are never these. LIKED_COMPLETE
 * marks a set holding every like of its user (and keeps a set of no likes alive); LIKED_OVER_CAP
 * marks a user with more likes than LIKES_CACHE_MAX, who is not cached; a set being built holds
 * its build's token, a negative number, instead of either. Integers all, like the post ids, so
 * Redis keeps a set of up to set-max-intset-entries (512) as an intset: 8 bytes a like.
 */
export const LIKED_COMPLETE = "0";

/**
 * The popular set's marker member, scored -inf (below every post, so the set's own trimming
 * drops it first): it keeps a cached ranking of no posts alive, which the projector then updates
 * like any other (it only touches a set that exists). Never a post id.
 */
export const POPULAR_MARKER = "0";
export const LIKED_OVER_CAP = "2";
