import { luaScript, type RedisClient, type RedisCommand, runScript } from "./redis.ts";
import { buildToken, keys, LIKED_COMPLETE, LIKED_OVER_CAP } from "./redis-keys.ts";

// liked_by_me from Redis: per viewer, a set of every post id they have liked, so that a page
// whose bodies, counts and authors are cached sends no PostgreSQL statement at all. A present
// set must be COMPLETE (a miss in it means "not liked"), so a set is in one of four states:
//
//   absent        nothing cached: readers ask PostgreSQL and start a build
//   building(t)   {t} ∪ likes added since the build began (t < 0); TTL BUILD_SECONDS; not trusted
//   complete      {"0"} ∪ every like of the viewer; TTL CACHE_TTL_SECONDS; trusted
//   over cap      {"2"}: more than LIKES_CACHE_MAX likes; TTL CACHE_TTL_SECONDS; readers ask
//                 PostgreSQL and do not build (the bound on a set's size)
//
// Who writes, and why the set converges on the likes table:
//
// - A build: BEGIN (absent → building(t), t unique), then ONE PostgreSQL snapshot S of the
//   viewer's likes (the page's hydration statement, db/feed.ts), then FINISH(t, S), which adds S
//   and marks the set complete only if building(t) is still there.
// - Writers of one (viewer, post), after their commit: the like/unlike command (before it
//   publishes its event, so that event's handler always comes after its write), and the
//   projector's PostLiked/PostUnliked handlers, which re-read the likes row, write it, then read
//   it again and write again until the read agrees with what they wrote. ADD goes into a
//   building or complete set; REMOVE takes the post out of a complete set and DELETES a set
//   being built (the build is aborted); neither creates a set, and neither touches one over cap.
//   A writer whose Redis call fails deletes the key (absent is always a safe state).
//
// Why a build cannot bring back an unliked post: S is read after BEGIN, so any unlike S still
// sees as a like commits after BEGIN, and every write of that unlike (command or handler) comes
// after its commit, so after BEGIN. Each such REMOVE meets building(t) and aborts it (or meets a
// later state, in which case building(t) has already ended). Tokens are never reused, so a FINISH
// whose set was aborted, expired or flushed meanwhile finds no t — even when another reader has
// begun a new build since — and writes nothing. A like committed after S is not in S, but its
// ADD comes after its commit, so it lands in building(t) and the union keeps it.
//
// Why concurrent writers converge: take the last write to a post's membership in a complete set.
// If a command made it, that command's event was published after it, so the event's handler
// writes after it: not the last. If a handler made it, the handler's following read agreed with
// it; a like or unlike committed after that read would have writers of its own after it. So the
// last write agrees with the last commit. (A command's write ends, or times out, within
// REDIS_COMMAND_TIMEOUT_MS, before the outbox sweeper would publish its event in its place.)
// What is not covered: a write lost with every retry and its DEL failing too (Redis unreachable
// for that writer only); the TTL bounds that.

/** How long a build may take before its marker expires and another reader may start one. */
const BUILD_SECONDS = 30;

export type LikedSetState =
  | { kind: "complete"; liked: Set<string> }
  | { kind: "over-cap" }
  /** Absent or being built: liked_by_me comes from PostgreSQL. */
  | { kind: "missing" };

/** The one command a page sends for liked_by_me: whether the set is trusted, and each post. */
export function likedSetQuery(userId: string, postIds: readonly string[]): RedisCommand {
  return ["smismember", keys.likedPosts(userId), LIKED_COMPLETE, LIKED_OVER_CAP, ...postIds];
}

/** Reads likedSetQuery's reply; anything unexpected counts as missing (PostgreSQL answers). */
export function parseLikedSet(
  reply: readonly [Error | null, unknown] | undefined,
  postIds: readonly string[],
): LikedSetState {
  const flags = reply && !reply[0] ? reply[1] : null;
  if (!Array.isArray(flags) || flags.length !== postIds.length + 2) return { kind: "missing" };
  if (Number(flags[1]) === 1) return { kind: "over-cap" };
  if (Number(flags[0]) !== 1) return { kind: "missing" };
  const liked = new Set<string>();
  postIds.forEach((id, i) => {
    if (Number(flags[i + 2]) === 1) liked.add(id);
  });
  return { kind: "complete", liked };
}

const BEGIN = luaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1`);

// ARGV: the build's marker, LIKED_COMPLETE, LIKED_OVER_CAP, cap, ttl, over (1 when the snapshot
// held more than cap likes; then no ids follow), ids…
const FINISH = luaScript(`
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('SREM', KEYS[1], ARGV[1])
local over = ARGV[6] == '1'
if not over then
  for i = 7, #ARGV, 1000 do redis.call('SADD', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV))) end
  over = redis.call('SCARD', KEYS[1]) > tonumber(ARGV[4])
end
if over then
  redis.call('DEL', KEYS[1])
  redis.call('SADD', KEYS[1], ARGV[3])
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
  return 2
end
redis.call('SADD', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
return 1`);

// ARGV: post id, LIKED_OVER_CAP, cap, ttl. The set keeps its TTL (a build's stays short); one
// that grows past the cap becomes the over-cap marker, for what was left of its TTL.
const ADD = luaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('SISMEMBER', KEYS[1], ARGV[2]) == 1 then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('SCARD', KEYS[1]) > tonumber(ARGV[3]) + 1 then
  local left = redis.call('PTTL', KEYS[1])
  redis.call('DEL', KEYS[1])
  redis.call('SADD', KEYS[1], ARGV[2])
  if left > 0 then redis.call('PEXPIRE', KEYS[1], left) else redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4])) end
  return 3
end
return 1`);

// ARGV: post id, LIKED_COMPLETE, LIKED_OVER_CAP. 1: removed from a complete set; 2: a build
// aborted (its snapshot may predate this unlike); 0: no set, or over cap.
const REMOVE = luaScript(`
if redis.call('SISMEMBER', KEYS[1], ARGV[2]) == 1 then
  redis.call('SREM', KEYS[1], ARGV[1])
  return 1
end
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('SISMEMBER', KEYS[1], ARGV[3]) == 0 then
  redis.call('DEL', KEYS[1])
  return 2
end
return 0`);

/**
 * Starts building a viewer's set; its token, or null when a set exists already (complete, over
 * cap, or another reader's build). Call before the snapshot of likes is read.
 */
export async function beginLikedSetBuild(redis: RedisClient, userId: string): Promise<string | null> {
  const token = buildToken();
  const began = await runScript(redis, BEGIN, [keys.likedPosts(userId)], [token, BUILD_SECONDS]);
  return Number(began) === 1 ? token : null;
}

/**
 * Completes a build with the viewer's likes read after it began (at most cap + 1 of them: more
 * than cap means over cap). A no-op when the build was aborted, expired or flushed meanwhile.
 */
export async function finishLikedSetBuild(
  redis: RedisClient,
  userId: string,
  token: string,
  likedIds: readonly string[],
  cap: number,
  ttl: number,
): Promise<"complete" | "over-cap" | "abandoned"> {
  const over = likedIds.length > cap;
  const args: (string | number)[] = [token, LIKED_COMPLETE, LIKED_OVER_CAP, cap, ttl, over ? 1 : 0];
  if (!over) args.push(...likedIds);
  const r = Number(await runScript(redis, FINISH, [keys.likedPosts(userId)], args));
  return r === 1 ? "complete" : r === 2 ? "over-cap" : "abandoned";
}

/**
 * Writes one (viewer, post) pair into the viewer's set if it has one: "applied" (the set holds
 * the pair's state now), "aborted" (an unlike met a build: the set is gone) or "none" (no set,
 * or over cap, now or since this like).
 */
export async function writeLikedSet(
  redis: RedisClient,
  userId: string,
  postId: string,
  liked: boolean,
  cap: number,
  ttl: number,
): Promise<"applied" | "aborted" | "none"> {
  const key = keys.likedPosts(userId);
  const r = liked
    ? await runScript(redis, ADD, [key], [postId, LIKED_OVER_CAP, cap, ttl])
    : await runScript(redis, REMOVE, [key], [postId, LIKED_COMPLETE, LIKED_OVER_CAP]);
  return Number(r) === 1 ? "applied" : Number(r) === 2 ? "aborted" : "none";
}

/** What a writer does when its write may not have landed: absent is always a safe state. */
export async function dropLikedSet(redis: RedisClient, userId: string): Promise<void> {
  await redis.del(keys.likedPosts(userId));
}

/**
 * What a viewer's cached set says they liked, when it is complete (trusted); null when it is
 * absent, being built or over the cap. For checks against the likes table (the chaos suite).
 */
export async function readCompleteLikedSet(redis: RedisClient, userId: string): Promise<Set<string> | null> {
  const members = await redis.smembers(keys.likedPosts(userId));
  if (!members.includes(LIKED_COMPLETE) || members.includes(LIKED_OVER_CAP)) return null;
  return new Set(members.filter((m) => m !== LIKED_COMPLETE && !m.startsWith("-")));
}
