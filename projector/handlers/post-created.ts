import { pushToAuthorCache, pushToHeads } from "../../core/cache.ts";
import type { EventOf } from "../../core/events.ts";
import { timestampOf } from "../../core/ids.ts";
import {
  bumpUserStats,
  enqueueFanout,
  type FanoutSize,
  fanOutBatch,
  fanOutPosts,
  fanOutSizes,
  insertOwnFeedItem,
  markProcessed,
  trimFeeds,
} from "../../db/projections.ts";
import type { BatchHandler, Handler, HandlerDeps } from "./types.ts";

/** One in TRIM_EVERY deliveries to a reader also trims that reader's feed to FEED_MAX_ITEMS. */
const TRIM_EVERY = 16n;

export function shouldTrim(userId: string, postId: string): boolean {
  // Mix the post's millisecond and sequence bits with the reader: every pair of reader and
  // author is trimmed now and then. (The shard bits alone would fix the answer per pair.)
  const p = BigInt(postId);
  const mixed = (p >> 22n) * 2654435761n + (p & 1023n) * 40503n + BigInt(userId);
  return mixed % TRIM_EVERY === 0n;
}

/**
 * After a fan-out batch commits: count its rows, push to cached heads, now and then trim. Trims
 * wait for the projector's trim batcher (off the insert path); one lost with a crash only leaves
 * a feed longer than FEED_MAX_ITEMS until a later delivery trims it.
 */
export async function afterBatch(
  deps: HandlerDeps,
  post: { id: string; at: number },
  batch: { followers: string[]; inserted: number },
): Promise<void> {
  deps.metrics.fanoutRows.inc(batch.inserted);
  await pushToHeads(deps.redis, batch.followers, post, deps.config.FEED_CACHE_ITEMS);
  await trimLater(
    deps,
    batch.followers.filter((f) => shouldTrim(f, post.id)),
  );
}

async function trimLater(deps: HandlerDeps, userIds: readonly string[]): Promise<void> {
  if (deps.trims) for (const id of userIds) deps.trims.add(id);
  else await trimFeeds(deps.sql, userIds, deps.config.FEED_MAX_ITEMS);
}

/** Authors with more followers than the threshold are pulled at read time, not pushed. */
export function fanOutMode(followers: number, threshold: number): "push" | "pull" {
  return followers > threshold ? "pull" : "push";
}

/**
 * Pull authors are not pushed; a pushed post with more active followers (the rows it writes)
 * than FANOUT_INLINE_MAX goes to the lane, so that its partition moves on; the rest inline.
 */
export function fanOutPath(
  size: FanoutSize,
  config: Pick<HandlerDeps["config"], "FANOUT_PULL_THRESHOLD" | "FANOUT_INLINE_MAX">,
): "pull" | "lane" | "inline" {
  if (fanOutMode(size.followers, config.FANOUT_PULL_THRESHOLD) === "pull") return "pull";
  return size.active > config.FANOUT_INLINE_MAX ? "lane" : "inline";
}

/**
 * PostCreatedEvent: push the post into the user_feed of every follower who read within
 * FEED_ACTIVE_DAYS, in batches, and onto the cached heads that exist; authors above FANOUT_PULL_THRESHOLD are not pushed (their followers
 * pull the author's recent posts at read time). Every step is an idempotent upsert, so a
 * redelivery repeats them harmlessly; only the posts counter is guarded by markProcessed.
 */
export const onPostCreated: Handler<"PostCreated"> = async (deps, event) => {
  const { sql, redis, config, metrics } = deps;
  const { post_id: postId, author_id: authorId } = event.payload;
  const post = { id: postId, at: timestampOf(postId) };
  const started = performance.now();

  await insertOwnFeedItem(sql, postId, authorId);
  await pushToHeads(redis, [authorId], post, config.FEED_CACHE_ITEMS);

  const size = (await fanOutSizes(sql, [authorId], config.FANOUT_INLINE_MAX)).get(authorId)!;
  const path = fanOutPath(size, config);
  if (path === "pull") {
    await pushToAuthorCache(redis, authorId, post, config.AUTHOR_CACHE_POSTS);
  } else if (path === "lane") {
    // Big fan-outs go to the lane (projector/fanout-lane.ts), batch by batch in turns, so this
    // partition moves on to the next event now.
    await enqueueFanout(sql, postId, authorId);
    deps.wakeFanoutLane?.();
    await pushToAuthorCache(redis, authorId, post, config.AUTHOR_CACHE_POSTS);
  } else {
    let after = "0";
    for (;;) {
      const batch = await sql.begin((tx) =>
        fanOutBatch(tx, {
          postId,
          authorId,
          afterFollower: after,
          limit: config.FANOUT_BATCH_SIZE,
        }),
      );
      if (batch.followers.length === 0) break;
      await afterBatch(deps, post, batch);
      after = batch.followers[batch.followers.length - 1]!;
      if (batch.followers.length < config.FANOUT_BATCH_SIZE) break;
    }
    // Cached author lists exist only for pull authors, but an author who just dropped below
    // the threshold may still have one: keep it current too.
    await pushToAuthorCache(redis, authorId, post, config.AUTHOR_CACHE_POSTS);
  }
  if (shouldTrim(authorId, postId)) await trimLater(deps, [authorId]);
  metrics.fanoutDuration.observe((performance.now() - started) / 1000);

  await sql.begin(async (tx) => {
    if (await markProcessed(tx, deps.group, event.id)) await bumpUserStats(tx, authorId, { posts: 1 });
  });
};

/**
 * PostCreated events of one read, at once. Inline posts (fanOutPath) go out together: one
 * transaction of two statements for up to FANOUT_BATCH_SIZE rows (db/projections.ts fanOutPosts), then their cached heads and author lists in
 * one round of Redis calls. Pull and lane authors' posts take onPostCreated, one by one. Same effects
 * as onPostCreated, so a redelivery, or the single handler running after a failed batch,
 * repeats them harmlessly.
 */
export const onPostsCreated: BatchHandler = async (deps, events) => {
  const posts = events.filter((e): e is EventOf<"PostCreated"> => e.type === "PostCreated");
  const started = performance.now();
  const sizes = await fanOutSizes(
    deps.sql,
    [...new Set(posts.map((e) => e.payload.author_id))],
    deps.config.FANOUT_INLINE_MAX,
  );
  let chunk: EventOf<"PostCreated">[] = [];
  let rows = 0;
  for (const e of posts) {
    const size = sizes.get(e.payload.author_id)!;
    if (fanOutPath(size, deps.config) !== "inline") {
      await onPostCreated(deps, e);
      continue;
    }
    if (chunk.length > 0 && rows + size.active > deps.config.FANOUT_BATCH_SIZE) {
      await fanOutChunk(deps, chunk);
      chunk = [];
      rows = 0;
    }
    chunk.push(e);
    rows += size.active;
  }
  if (chunk.length > 0) await fanOutChunk(deps, chunk);
  const seconds = (performance.now() - started) / 1000;
  for (let i = 0; i < posts.length; i++) deps.metrics.fanoutDuration.observe(seconds);
};

async function fanOutChunk(deps: HandlerDeps, events: readonly EventOf<"PostCreated">[]): Promise<void> {
  const { redis, config } = deps;
  const { deliveries, inserted } = await deps.sql.begin((tx) =>
    fanOutPosts(
      tx,
      deps.group,
      events.map((e) => ({ eventId: e.id, postId: e.payload.post_id, authorId: e.payload.author_id })),
    ),
  );
  deps.metrics.fanoutRows.inc(inserted);
  const readers = new Map<string, string[]>();
  for (const d of deliveries) {
    const list = readers.get(d.post_id);
    if (list) list.push(d.user_id);
    else readers.set(d.post_id, [d.user_id]);
  }
  const calls: Promise<unknown>[] = [];
  const trims: string[] = [];
  for (const e of events) {
    const post = { id: e.payload.post_id, at: timestampOf(e.payload.post_id) };
    const to = readers.get(post.id) ?? [];
    calls.push(pushToHeads(redis, to, post, config.FEED_CACHE_ITEMS));
    // As onPostCreated: an author who just dropped below the threshold may still have a list.
    calls.push(pushToAuthorCache(redis, e.payload.author_id, post, config.AUTHOR_CACHE_POSTS));
    // The author's own feed is among `to`.
    for (const id of to) if (shouldTrim(id, post.id)) trims.push(id);
  }
  await Promise.all(calls);
  await trimLater(deps, trims);
}
