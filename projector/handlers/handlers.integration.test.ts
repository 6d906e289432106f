import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import type { FeedEvent } from "../../core/events.ts";
import { beginLikedSetBuild, finishLikedSetBuild } from "../../core/liked-set.ts";
import { keys, LIKED_COMPLETE } from "../../core/redis-keys.ts";
import { publishEvents } from "../../core/streams.ts";
import { openTestDb, type TestDb } from "../../db/testing.ts";
import { listDeadLetters, replayDeadLetters } from "../dlq.ts";
import { startTestProjector } from "../testing.ts";
import { convergeLikedSets } from "./like-counts.ts";
import type { HandlerDeps } from "./types.ts";

// Handlers not covered by the pipeline test, the projector's metrics as Prometheus scrapes
// them, and dead-letter replay of one entry.

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb({ STREAM_PARTITIONS: "2", MAX_DELIVERIES: "1" });
});
afterAll(async () => {
  await db.close();
});
beforeEach(async () => {
  await db.reset();
});

const envelope = (id: string, actor: string) => ({
  id,
  version: 1 as const,
  occurred_at: new Date().toISOString(),
  actor_id: actor,
});

describe("media and registration events (projector group)", () => {
  test("UserRegistered starts the counters; PostImageUploaded and AvatarUpdated drop the stale cached cards", async () => {
    const p = await startTestProjector(db);
    const u = await db.makeUser();
    await db.redis.set(keys.user(u.id), "stale", "EX", 60);
    await db.redis.set(keys.post("77"), "stale", "EX", 60);
    const events: FeedEvent[] = [
      { ...envelope("9001", u.id), type: "UserRegistered", payload: { user_id: u.id, handle: u.handle } },
      {
        ...envelope("9002", u.id),
        type: "AvatarUpdated",
        payload: { user_id: u.id, key: `users/${u.id}/avatars/a.webp`, previous_key: null },
      },
      {
        ...envelope("9003", u.id),
        type: "PostImageUploaded",
        payload: { post_id: "77", author_id: u.id, key: "posts/77/b.webp", previous_key: null },
      },
    ];
    await publishEvents(
      db.redis,
      events.map((e) => ({ stream: keys.stream(0), event: e })),
    );
    await p.settle();
    const [stats] =
      await db.sql`SELECT followers_count::int, posts_count::int FROM user_stats WHERE user_id = ${u.id}`;
    expect(stats).toEqual({ followers_count: 0, posts_count: 0 });
    expect(await db.redis.exists(keys.user(u.id))).toBe(0);
    expect(await db.redis.exists(keys.post("77"))).toBe(0);
    await p.stop();
  });
});

describe("projector metrics", () => {
  test("a scrape reports events by outcome, backlog per group and the DLQ size", async () => {
    const p = await startTestProjector(db);
    const u = await db.makeUser();
    await publishEvents(db.redis, [
      {
        stream: keys.stream(1),
        event: {
          ...envelope("9100", u.id),
          type: "UserRegistered",
          payload: { user_id: u.id, handle: u.handle },
        },
      },
    ]);
    await db.redis.xadd(keys.stream(0), "*", "id", "9101", "type", "PostCreated", "event", "{broken");
    await p.settle();
    const text = await p.metrics.registry.metrics();
    expect(text).toContain('projector_events_total{group="projector",type="UserRegistered",outcome="ok"} 1');
    expect(text).toContain('projector_events_total{group="projector",type="PostCreated",outcome="dead"} 1');
    expect(text).toContain('stream_pending_entries{group="projector"} 0');
    expect(text).toContain('stream_lag_entries{group="projector"} 0');
    expect(text).toContain("dlq_entries 1");
    expect(text).toContain('projector_event_lag_seconds_count{group="projector",type="UserRegistered"} 1');
    // Redis's own lag counter gone wrong (as after a restart from the AOF): every entry has been
    // delivered, so the backlog is 0 whatever XINFO says.
    await db.redis.call("xgroup", "setid", keys.stream(1), "projector", "$", "ENTRIESREAD", "0");
    const info = (await db.redis.call("xinfo", "groups", keys.stream(1))) as unknown[][];
    const projectorGroup = info.find((g) => g[1] === "projector")!;
    expect(Number(projectorGroup[projectorGroup.indexOf("lag") + 1])).toBeGreaterThan(0);
    await Bun.sleep(1100); // past the second for which scrapes share one XINFO pass
    const again = await p.metrics.registry.metrics();
    expect(again).toContain('stream_lag_entries{group="projector"} 0');
    await p.stop();
  });
});

describe("dead-letter replay", () => {
  test("replays one entry by its event id and reports when nothing matches", async () => {
    const p = await startTestProjector(db);
    // A malformed entry goes to the DLQ at once.
    await db.redis.xadd(keys.stream(0), "*", "id", "9200", "type", "UserRegistered", "event", "{broken");
    await p.settle();
    const [dead] = await listDeadLetters(db.redis);
    expect(dead?.event_id).toBe("9200");
    // Stopped while replaying: a running projector would dead-letter it again at once.
    await p.stop();
    expect(await replayDeadLetters(db.redis, "no-such-id")).toBe(0);
    expect(await replayDeadLetters(db.redis, dead!.dlq_id)).toBe(1);
    expect(await listDeadLetters(db.redis)).toHaveLength(0);
    // Still broken: it comes back to the DLQ, once.
    const again = await startTestProjector(db);
    await again.settle();
    expect(await listDeadLetters(db.redis)).toHaveLength(1);
    await again.stop();
  });
});

describe("liked sets (PostLiked, PostUnliked)", () => {
  // The handlers converge the liker's cached set on the likes row as it stands when they run,
  // so the order and the number of deliveries do not matter.
  async function setUp() {
    const viewer = await db.makeUser();
    const author = await db.makeUser();
    const posts = [await db.makePost(author, { text: "one" }), await db.makePost(author, { text: "two" })];
    const token = await beginLikedSetBuild(db.redis, viewer.id);
    await finishLikedSetBuild(db.redis, viewer.id, token!, [], 100, 600);
    const like = (n: number, type: "PostLiked" | "PostUnliked", id: string): FeedEvent => ({
      ...envelope(id, viewer.id),
      type,
      payload: { post_id: posts[n]!.id, user_id: viewer.id, author_id: author.id },
    });
    const deliver = async (...events: FeedEvent[]) => {
      await publishEvents(
        db.redis,
        events.map((e) => ({ stream: keys.stream(0), event: e })),
      );
      await p.settle();
    };
    const members = async () => (await db.redis.smembers(keys.likedPosts(viewer.id))).sort();
    const p = await startTestProjector(db);
    return { viewer, posts, like, deliver, members, p };
  }

  test("a like's event adds it; its unlike's event, delivered twice, takes it out", async () => {
    const { viewer, posts, like, deliver, members, p } = await setUp();
    await db.like(viewer, posts[0]!.id);
    await deliver(like(0, "PostLiked", "9301"));
    expect(await members()).toEqual([LIKED_COMPLETE, posts[0]!.id].sort());
    await db.sql`DELETE FROM likes WHERE user_id = ${viewer.id}`;
    await deliver(like(0, "PostUnliked", "9302"), like(0, "PostUnliked", "9302"));
    expect(await members()).toEqual([LIKED_COMPLETE]);
    await p.stop();
  });

  test("events out of order and redelivered leave the set as the likes table says", async () => {
    const { viewer, posts, like, deliver, members, p } = await setUp();
    // like → unlike → like again on post 0; like → unlike on post 1. Every event arrives after
    // the last change, the unlikes before the likes, and some twice.
    await db.like(viewer, posts[0]!.id);
    await deliver(
      like(0, "PostUnliked", "9312"),
      like(1, "PostUnliked", "9314"),
      like(0, "PostLiked", "9313"),
      like(1, "PostLiked", "9311"),
      like(0, "PostLiked", "9310"),
      like(1, "PostLiked", "9311"),
      like(0, "PostUnliked", "9312"),
    );
    expect(await members()).toEqual([LIKED_COMPLETE, posts[0]!.id].sort());
    // A late PostLiked of a like that is gone takes nothing back.
    await db.sql`DELETE FROM likes WHERE user_id = ${viewer.id}`;
    await deliver(like(0, "PostLiked", "9313"));
    expect(await members()).toEqual([LIKED_COMPLETE]);
    await p.stop();
  });

  test("a handler that read the like just before a concurrent unlike wrote its state writes again", async () => {
    const { viewer, posts, members, p } = await setUp();
    await p.stop();
    const post = posts[0]!.id;
    await db.like(viewer, post);
    // The handler's first read of the row sees the like; right after it, the unlike commits
    // and its own writers take the post out of the set, before the handler writes "liked".
    let reads = 0;
    const sql = new Proxy(db.sql, {
      apply: async (target, self, args: Parameters<typeof db.sql>) => {
        const rows = await Reflect.apply(target, self, args);
        if (String(args[0]).includes("FROM likes") && reads++ === 0) {
          await db.sql`DELETE FROM likes WHERE user_id = ${viewer.id} AND post_id = ${post}`;
          await db.redis.srem(keys.likedPosts(viewer.id), post);
        }
        return rows;
      },
    });
    await convergeLikedSets({ sql, redis: db.redis, config: db.config } as HandlerDeps, [
      { userId: viewer.id, postId: post },
    ]);
    expect(reads).toBe(3); // read, write, read (changed), write, read (agrees)
    expect(await members()).toEqual([LIKED_COMPLETE]);
  });

  test("a row that keeps changing under the handler: after three rounds the set is dropped", async () => {
    const { viewer, posts, members, p } = await setUp();
    await p.stop();
    const post = posts[0]!.id;
    expect(await members()).toEqual([LIKED_COMPLETE]);
    // Every read of the row finds it flipped since the last: the handler never sees two reads
    // agree, so it cannot know the state it last wrote is the last one, and drops the set.
    let liked = false;
    const sql = new Proxy(db.sql, {
      apply: async (target, self, args: Parameters<typeof db.sql>) => {
        if (String(args[0]).includes("FROM likes")) {
          liked = !liked;
          if (liked) await db.like(viewer, post);
          else await db.sql`DELETE FROM likes WHERE user_id = ${viewer.id} AND post_id = ${post}`;
        }
        return Reflect.apply(target, self, args);
      },
    });
    await convergeLikedSets({ sql, redis: db.redis, config: db.config } as HandlerDeps, [
      { userId: viewer.id, postId: post },
    ]);
    expect(await db.redis.exists(keys.likedPosts(viewer.id))).toBe(0);
  });

  test("a Redis error while writing the set drops it; when the drop fails too, the event is retried", async () => {
    const { viewer, posts, p } = await setUp();
    await p.stop();
    const post = posts[0]!.id;
    const failing = (names: string[]) =>
      new Proxy(db.redis, {
        get(target, prop, receiver) {
          if (typeof prop === "string" && names.includes(prop))
            return () => Promise.reject(new Error(`injected: ${prop} failed`));
          const v = Reflect.get(target, prop, receiver);
          return typeof v === "function" ? v.bind(target) : v;
        },
      });
    const deps = (redis: typeof db.redis) => ({ sql: db.sql, redis, config: db.config }) as HandlerDeps;
    await db.like(viewer, post);
    await convergeLikedSets(deps(failing(["evalsha", "eval"])), [{ userId: viewer.id, postId: post }]);
    expect(await db.redis.exists(keys.likedPosts(viewer.id))).toBe(0);

    const token = await beginLikedSetBuild(db.redis, viewer.id);
    await finishLikedSetBuild(db.redis, viewer.id, token!, [], 100, 600);
    await expect(
      convergeLikedSets(deps(failing(["evalsha", "eval", "del"])), [{ userId: viewer.id, postId: post }]),
    ).rejects.toThrow("injected: evalsha failed");
    // The set is still there, without the like: the event's retry must bring it right.
    expect(await db.redis.sismember(keys.likedPosts(viewer.id), post)).toBe(0);
  });

  test("no set, none made: a reader builds it from PostgreSQL when it needs it", async () => {
    const { viewer, posts, like, deliver, p } = await setUp();
    await db.redis.del(keys.likedPosts(viewer.id));
    await db.like(viewer, posts[0]!.id);
    await deliver(like(0, "PostLiked", "9320"));
    expect(await db.redis.exists(keys.likedPosts(viewer.id))).toBe(0);
    await p.stop();
  });
});

test("the single like handlers (a failed batch's fallback) move the count once each", async () => {
  const { onPostLiked } = await import("./post-liked.ts");
  const { onPostUnliked } = await import("./post-unliked.ts");
  const [a, b] = [await db.makeUser(), await db.makeUser()];
  const post = (await db.makePost(a, { text: "single" })).id;
  const deps = { sql: db.sql, redis: db.redis, config: db.config, group: "projector" } as HandlerDeps;
  const event = <T extends "PostLiked" | "PostUnliked">(id: string, type: T) => ({
    id,
    type,
    version: 1 as const,
    occurred_at: new Date().toISOString(),
    actor_id: b.id,
    payload: { post_id: post, user_id: b.id, author_id: a.id },
  });
  await onPostLiked(deps, event("9701", "PostLiked"));
  await onPostLiked(deps, event("9701", "PostLiked"));
  const count = async () =>
    (await db.sql`SELECT like_count::int AS n FROM post_stats WHERE post_id = ${post}`)[0]?.n;
  expect(await count()).toBe(1);
  await onPostUnliked(deps, event("9702", "PostUnliked"));
  expect(await count()).toBe(0);
});

test("PostCreated in a batch: small authors' posts in one transaction, once each; a lane author's alone", async () => {
  const { onPostsCreated, shouldTrim } = await import("./post-created.ts");
  const { createProjectorMetrics } = await import("../metrics.ts");
  const { insertFollow } = await import("../../db/graph.ts");
  const { bumpUserStats } = await import("../../db/projections.ts");
  const [a, b, star, f1, f2, f3] = [
    await db.makeUser(),
    await db.makeUser(),
    await db.makeUser(),
    await db.makeUser(),
    await db.makeUser(),
    await db.makeUser(),
  ];
  const follows: [typeof a, typeof a][] = [
    [f1, a],
    [f2, a],
    [f1, b],
    [f1, star],
    [f2, star],
    [f3, star],
  ];
  for (const [follower, followee] of follows) {
    await insertFollow(db.sql, follower.id, followee.id);
    await bumpUserStats(db.sql, followee.id, { followers: 1 });
  }
  // f2 has a cached head: the batch pushes onto it.
  await db.redis.zadd(keys.feedHead(f2.id), "+inf", "complete");
  const posts = [
    await db.makePost(a, { text: "a1" }),
    await db.makePost(b, { text: "b1" }),
    await db.makePost(a, { text: "a2" }),
    await db.makePost(star, { text: "s1" }),
  ];
  const events = posts.map((p, i) => ({
    ...envelope(String(9800 + i), p.author_id),
    type: "PostCreated" as const,
    payload: { post_id: p.id, author_id: p.author_id, created_at: p.created_at.toISOString() },
  }));
  const deps = {
    sql: db.sql,
    redis: db.redis,
    // star's 3 followers are over the inline maximum: star's post goes to the lane.
    config: { ...db.config, FANOUT_INLINE_MAX: 2 },
    group: "projector",
    metrics: createProjectorMetrics(),
  } as HandlerDeps;
  db.resetCount();
  await onPostsCreated(deps, [...events.slice(0, 3), events[0]!]);
  // The follower counts; BEGIN, the fan-out locks, the rows and counters, COMMIT: for any
  // number of small authors' posts. And one trim, if a feed the posts reached is due one.
  const reached: [string, string][] = [
    ...[a, f1, f2].flatMap((u) => [posts[0]!, posts[2]!].map((p): [string, string] => [u.id, p.id])),
    [b.id, posts[1]!.id],
    [f1.id, posts[1]!.id],
  ];
  expect(db.queryCount()).toBe(5 + (reached.some(([u, p]) => shouldTrim(u, p)) ? 1 : 0));
  await onPostsCreated(deps, events);
  await onPostsCreated(deps, events); // all of them again: nothing changes
  const feed = async (u: { id: string }) =>
    (await db.sql`SELECT post_id::text FROM user_feed WHERE user_id = ${u.id} ORDER BY post_id`).map(
      (r) => r.post_id,
    );
  expect(await feed(f1)).toEqual([posts[0]!.id, posts[1]!.id, posts[2]!.id].sort());
  expect(await feed(f2)).toEqual([posts[0]!.id, posts[2]!.id].sort());
  expect(await feed(a)).toEqual([posts[0]!.id, posts[2]!.id].sort());
  expect(await feed(f3)).toEqual([]);
  const counts = await db.sql`
    SELECT user_id::text, posts_count::int AS n FROM user_stats WHERE user_id IN (${a.id}, ${b.id}, ${star.id})`;
  expect(Object.fromEntries(counts.map((r) => [r.user_id, r.n]))).toEqual({
    [a.id]: 2,
    [b.id]: 1,
    [star.id]: 1,
  });
  expect((await db.sql`SELECT post_id::text FROM fanout_jobs`).map((r) => r.post_id)).toEqual([posts[3]!.id]);
  const head = await db.redis.zrange(keys.feedHead(f2.id), "0", "-1");
  expect(head).toEqual(expect.arrayContaining([posts[0]!.id, posts[2]!.id]));
  expect(head).not.toContain(posts[1]!.id);
  // Rows into followers' feeds: f1 and f2 for each of a's posts, f1 for b's.
  expect((await deps.metrics.fanoutRows.get()).values[0]!.value).toBe(5);
});
