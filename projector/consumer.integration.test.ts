import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { testApp } from "../api/testing.ts";
import type { FeedEvent } from "../core/events.ts";
import { keys } from "../core/redis-keys.ts";
import { GROUPS, publishEvents } from "../core/streams.ts";
import { openTestDb, type TestDb } from "../db/testing.ts";
import { listDeadLetters, replayDeadLetters } from "./dlq.ts";
import { projectorHandlers } from "./handlers/index.ts";
import type { HandlerMap } from "./handlers/types.ts";
import { pruneConsumers } from "./stream-trimmer.ts";
import { backlog, gate, startTestProjector, waitFor } from "./testing.ts";

// The consumer's delivery guarantees against real Redis Streams and PostgreSQL: redelivery,
// replay in any order, retries and the dead-letter stream, takeover of a dead consumer's
// entries, group loss, trimming, and a graceful stop.

let db: TestDb;
let api: ReturnType<typeof testApp>;

beforeAll(async () => {
  db = await openTestDb({
    STREAM_PARTITIONS: "2",
    MAX_DELIVERIES: "3",
    RETRY_BASE_MS: "10",
    RETRY_MAX_MS: "40",
    CLAIM_TIMEOUT_MS: "300",
  });
});
afterAll(async () => {
  await db.close();
});
beforeEach(async () => {
  await db.reset();
  api = testApp(db);
});

const idem = () => ({ "idempotency-key": crypto.randomUUID() });

/** A small world: users following each other, posts, likes, an unfollow, with the events. */
async function buildWorld() {
  const users = await Promise.all([1, 2, 3, 4].map(() => db.makeUser()));
  const [a, b, c, d] = users as [(typeof users)[0], (typeof users)[0], (typeof users)[0], (typeof users)[0]];
  for (const [x, y] of [
    [b, a],
    [c, a],
    [d, a],
    [a, b],
    [c, b],
  ] as const) {
    await api.call("POST", "/follows", { token: x.token, json: { user_id: y.id } });
  }
  const posts: string[] = [];
  for (const [u, n] of [
    [a, 3],
    [b, 2],
    [c, 1],
  ] as const) {
    for (let i = 0; i < n; i++)
      posts.push(
        (
          await api.call("POST", "/posts", {
            token: u.token,
            json: { text: `${u.handle} ${i}` },
            headers: idem(),
          })
        ).body.id,
      );
  }
  for (const [u, p] of [
    [b, 0],
    [c, 0],
    [d, 1],
    [a, 3],
    [b, 3],
  ] as const) {
    await api.call("POST", "/likes", { token: u.token, json: { post_id: posts[p] } });
  }
  await api.call("DELETE", `/likes/${posts[3]}`, { token: b.token });
  await api.call("DELETE", `/follows/${a.id}`, { token: d.token });
  // follow → unfollow → follow: must converge on "following".
  await api.call("DELETE", `/follows/${a.id}`, { token: c.token });
  await api.call("POST", "/follows", { token: c.token, json: { user_id: a.id } });
  return users;
}

async function readModel() {
  const [feed, stats, ustats] = await Promise.all([
    db.sql`SELECT user_id::text, post_id::text, author_id::text FROM user_feed ORDER BY 1, 2`,
    db.sql`SELECT post_id::text, like_count::int FROM post_stats ORDER BY 1`,
    db.sql`SELECT user_id::text, followers_count::int, following_count::int, posts_count::int FROM user_stats ORDER BY 1`,
  ]);
  return { feed: [...feed], stats: [...stats].filter((s) => s.like_count !== 0), ustats: [...ustats] };
}

async function eventLog(): Promise<FeedEvent[]> {
  const rows = await db.sql<{ event: FeedEvent }[]>`SELECT event FROM outbox ORDER BY id`;
  return rows.map((r) => r.event);
}

describe("idempotent, order-independent projections", () => {
  test("the same events delivered twice, or shuffled and duplicated, give the same read model", async () => {
    await buildWorld();
    const p = await startTestProjector(db);
    await p.settle();
    const once = await readModel();
    expect(once.feed.length).toBeGreaterThan(0);
    expect(once.ustats.length).toBeGreaterThan(0);

    // Deliver every event again.
    const events = await eventLog();
    await publishEvents(
      db.redis,
      events.map((e) => ({ stream: keys.stream(0), event: e })),
    );
    await p.settle();
    expect(await readModel()).toEqual(once);
    await p.stop();

    // Rebuild the read model from nothing by a shuffled, duplicated replay of the whole log.
    await db.sql`TRUNCATE user_feed, post_stats, user_stats, processed_events`;
    await db.flushRedis();
    const shuffled = [...events, ...events.slice(0, events.length / 2)]
      .map((e) => ({ e, k: Math.random() }))
      .sort((x, y) => x.k - y.k)
      .map(({ e }) => e);
    const p2 = await startTestProjector(db);
    await publishEvents(
      db.redis,
      shuffled.map((e, i) => ({ stream: keys.stream(i % 2), event: e })),
    );
    await p2.settle();
    expect(await readModel()).toEqual(once);
    await p2.stop();
  });
});

describe("retries and the dead-letter stream", () => {
  test("a handler that always throws lands in feed:dlq after MAX_DELIVERIES; the rest keep flowing", async () => {
    const attempts: string[] = [];
    const handlers: HandlerMap = {
      ...projectorHandlers,
      PostLiked: async (_d, e) => {
        attempts.push(e.id);
        throw new Error("boom: like handler broken");
      },
    };
    const p = await startTestProjector(db, { handlers });
    const [a, b] = await Promise.all([db.makeUser(), db.makeUser()]);
    await api.call("POST", "/follows", { token: b.token, json: { user_id: a.id } });
    const post = (await api.call("POST", "/posts", { token: a.token, json: { text: "x" }, headers: idem() }))
      .body;
    await api.call("POST", "/likes", { token: b.token, json: { post_id: post.id } });
    const later = (
      await api.call("POST", "/posts", {
        token: a.token,
        json: { text: "after the bad one" },
        headers: idem(),
      })
    ).body;
    await p.settle();

    const dead = await listDeadLetters(db.redis);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ type: "PostLiked", deliveries: 3, group: GROUPS.projector });
    expect(dead[0]!.error).toContain("boom");
    expect(attempts).toHaveLength(3);
    const feed = await db.sql`SELECT post_id::text FROM user_feed WHERE user_id = ${b.id}`;
    expect(feed.map((r) => r.post_id).sort()).toEqual([post.id, later.id].sort());
    const outcomes = await p.metrics.registry.getSingleMetricAsString("projector_events_total");
    expect(outcomes).toContain('outcome="dead"');
    expect(outcomes).toContain('outcome="retry"');
    expect(p.logs.some((l) => l.msg === "event dead-lettered" && l.event_id === dead[0]!.event_id)).toBe(
      true,
    );
    await p.stop();

    // Fixed handler: replaying the dead letter applies it exactly once.
    const fixed = await startTestProjector(db);
    expect(await replayDeadLetters(db.redis, "all")).toBe(1);
    await fixed.settle();
    expect(await listDeadLetters(db.redis)).toHaveLength(0);
    const [stats] = await db.sql`SELECT like_count::int FROM post_stats WHERE post_id = ${post.id}`;
    expect(stats?.like_count).toBe(1);
    await fixed.stop();
  });

  test("a malformed entry is dead-lettered at once instead of retried", async () => {
    const p = await startTestProjector(db);
    await db.redis.xadd(keys.stream(0), "*", "id", "1", "type", "PostCreated", "event", "{not json");
    await p.settle();
    const dead = await listDeadLetters(db.redis);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.deliveries).toBe(1);
    await p.stop();
  });
});

describe("like events in batches", () => {
  /** A like or unlike event of `user` on `postId`, as the api would publish it. */
  const likeEvent = (
    id: string,
    type: "PostLiked" | "PostUnliked",
    user: string,
    postId: string,
    author: string,
  ) =>
    ({
      id,
      type,
      version: 1,
      occurred_at: new Date().toISOString(),
      actor_id: user,
      payload: { post_id: postId, user_id: user, author_id: author },
    }) as FeedEvent;
  const count = async (postId: string) =>
    (await db.sql`SELECT like_count::int AS n FROM post_stats WHERE post_id = ${postId}`)[0]?.n ?? 0;

  test("a read's likes and unlikes count once each, in one batch, and again not at all", async () => {
    const [a, b, c, d] = await Promise.all([db.makeUser(), db.makeUser(), db.makeUser(), db.makeUser()]);
    const post = (await api.call("POST", "/posts", { token: a.token, json: { text: "x" }, headers: idem() }))
      .body.id as string;
    const events = [
      likeEvent("9001", "PostLiked", b.id, post, a.id),
      likeEvent("9002", "PostLiked", c.id, post, a.id),
      likeEvent("9003", "PostLiked", d.id, post, a.id),
      likeEvent("9004", "PostUnliked", d.id, post, a.id),
    ];
    const publish = () =>
      publishEvents(
        db.redis,
        events.map((event) => ({ stream: keys.stream(0), event })),
      );
    // In the stream before the projector starts, so that its first read takes them together,
    // one of them twice (the sweeper may publish an event again).
    await publish();
    await publishEvents(db.redis, [{ stream: keys.stream(0), event: events[0]! }]);
    const p = await startTestProjector(db);
    await p.settle();
    expect(await count(post)).toBe(2);
    await publish(); // every one of them delivered again
    await p.settle();
    expect(await count(post)).toBe(2);
    expect(p.logs.some((l) => l.msg === "batch failed; handling its events one by one")).toBe(false);
    await p.stop();
  });

  test("a poison entry inside a batch goes alone to the DLQ after its retries; the others count", async () => {
    const [a, b, c] = await Promise.all([db.makeUser(), db.makeUser(), db.makeUser()]);
    const post = (await api.call("POST", "/posts", { token: a.token, json: { text: "x" }, headers: idem() }))
      .body.id as string;
    // A valid event whose post id no bigint holds: the batch statement fails on it, and so
    // does its own statement, every time.
    const poison = likeEvent("9102", "PostLiked", c.id, "9999999999999999999", a.id);
    const events = [
      likeEvent("9101", "PostLiked", b.id, post, a.id),
      poison,
      likeEvent("9103", "PostLiked", c.id, post, a.id),
    ];
    await publishEvents(
      db.redis,
      events.map((event) => ({ stream: keys.stream(0), event })),
    );
    // Started after the events are in the stream: its first read takes the three together.
    const p = await startTestProjector(db);
    await p.settle();
    expect(await count(post)).toBe(2);
    expect(p.logs.some((l) => l.msg === "batch failed; handling its events one by one" && l.size === 3)).toBe(
      true,
    );
    const dead = await listDeadLetters(db.redis);
    expect(dead.map((x) => x.event_id)).toEqual([poison.id]);
    expect(dead[0]!.deliveries).toBe(3);
    await p.stop();
  });
});

describe("consumer failure and recovery", () => {
  test("entries in the hands of a killed consumer are taken over through XAUTOCLAIM", async () => {
    const p1 = await startTestProjector(db);
    await p1.stop(); // creates the group, then goes away
    const [a, b] = await Promise.all([db.makeUser(), db.makeUser()]);
    await api.call("POST", "/follows", { token: b.token, json: { user_id: a.id } });
    const post = (
      await api.call("POST", "/posts", { token: a.token, json: { text: "orphan" }, headers: idem() })
    ).body;
    // A consumer reads the entries and dies before acknowledging them.
    // One stream per read: on a test cluster the partitions are in different slots.
    const streams = [keys.stream(0), keys.stream(1)];
    const read = await Promise.all(
      streams.map(
        (s) =>
          db.redis.xreadgroup(
            "GROUP",
            GROUPS.projector,
            "doomed",
            "COUNT",
            100,
            "STREAMS",
            s,
            ">",
          ) as Promise<[string, unknown[]][] | null>,
      ),
    );
    expect(read.flatMap((r) => r ?? []).flatMap(([, e]) => e).length).toBe(2);
    expect(await backlog(db, streams)).toBe(2);

    const p2 = await startTestProjector(db, { consumerName: "survivor" });
    await p2.settle(10_000);
    const feed = await db.sql`SELECT post_id::text FROM user_feed WHERE user_id = ${b.id}`;
    expect(feed.map((r) => r.post_id)).toEqual([post.id]);
    const pending = (await db.redis.xpending(keys.stream(0), GROUPS.projector)) as [number, ...unknown[]];
    expect(pending[0]).toBe(0);
    await p2.stop();
  });

  test("a lost consumer group is recreated from the recorded position, and lost events come back from the outbox", async () => {
    const p = await startTestProjector(db);
    const [a, b] = await Promise.all([db.makeUser(), db.makeUser()]);
    await api.call("POST", "/follows", { token: b.token, json: { user_id: a.id } });
    await p.settle();
    await p.projector.maintain(); // records the acknowledged position in PostgreSQL
    const offsets = await db.sql`SELECT stream, acked_id FROM stream_offsets`;
    expect(offsets.length).toBeGreaterThan(0);
    await p.stop();

    // Redis loses everything; a post is committed and XADDed to the empty Redis... and lost
    // again before any group exists to see it: only the outbox still has it.
    await db.flushRedis();
    const post = (
      await api.call("POST", "/posts", { token: a.token, json: { text: "after the flush" }, headers: idem() })
    ).body;
    await db.flushRedis();

    const p2 = await startTestProjector(db);
    await p2.projector.sweep();
    await p2.settle();
    const feed = await db.sql`SELECT post_id::text FROM user_feed WHERE user_id = ${b.id}`;
    expect(feed.map((r) => r.post_id)).toEqual([post.id]);
    expect(p2.logs.some((l) => l.msg === "consumer group recreated from recorded position")).toBe(true);
    await p2.stop();
  });

  test("NOGROUP while running: the loop recreates its group and goes on", async () => {
    const p = await startTestProjector(db);
    for (const s of p.projector.streams) await db.redis.xgroup("DESTROY", s, GROUPS.projector);
    const [a, b] = await Promise.all([db.makeUser(), db.makeUser()]);
    await api.call("POST", "/follows", { token: b.token, json: { user_id: a.id } });
    await waitFor(
      async () =>
        (await db.sql`SELECT 1 FROM user_stats WHERE user_id = ${a.id} AND followers_count = 1`).length === 1,
      10_000,
      "the follow to be projected",
    );
    await p.stop();
  });

  test("streams are trimmed only below what every group acknowledged", async () => {
    const p = await startTestProjector(db);
    const a = await db.makeUser();
    for (let i = 0; i < 5; i++)
      await api.call("POST", "/posts", { token: a.token, json: { text: `t${i}` }, headers: idem() });
    await p.settle();
    // A second group that has read nothing holds everything back.
    for (const s of p.projector.streams) await db.redis.xgroup("CREATE", s, "laggard", "0", "MKSTREAM");
    const before = await Promise.all(p.projector.streams.map((s) => db.redis.xlen(s)));
    await p.projector.maintain();
    const after = await Promise.all(p.projector.streams.map((s) => db.redis.xlen(s)));
    expect(after).toEqual(before);
    // Once it has acknowledged everything, the entries can go.
    for (const s of p.projector.streams) {
      const got = (await db.redis.xreadgroup("GROUP", "laggard", "l1", "COUNT", 1000, "STREAMS", s, ">")) as
        | [string, [string, string[]][]][]
        | null;
      const ids = (got?.[0]?.[1] ?? []).map(([id]) => id);
      if (ids.length) await db.redis.xack(s, "laggard", ...ids);
      await db.redis.xadd(s, "*", "noise", "1"); // Redis keeps the last entry; add one past them
    }
    await p.projector.maintain();
    const total = (await Promise.all(p.projector.streams.map((s) => db.redis.xlen(s)))).reduce(
      (x, y) => x + y,
      0,
    );
    expect(total).toBeLessThan(before.reduce((x, y) => x + y, 0) + p.projector.streams.length);
    await p.stop();
  });

  test("consumers left behind by restarts are pruned once idle with nothing pending", async () => {
    const s = keys.stream(0);
    await db.redis.xgroup("CREATE", s, GROUPS.projector, "0", "MKSTREAM");
    await db.redis.xadd(s, "*", "n", "1");
    await db.redis.xadd(s, "*", "n", "2");
    const read = async (consumer: string) =>
      (await db.redis.xreadgroup(
        "GROUP",
        GROUPS.projector,
        consumer,
        "COUNT",
        1,
        "STREAMS",
        s,
        ">",
      ))![0]![1][0]![0];
    await db.redis.xack(s, GROUPS.projector, await read("gone-empty"));
    await read("gone-busy"); // dies holding an entry
    await Bun.sleep(30);
    expect(await pruneConsumers(db.redis, [s], GROUPS.projector, 10)).toBe(1);
    const left = ((await db.redis.xinfo("CONSUMERS", s, GROUPS.projector)) as unknown[][]).map((c) => c[1]);
    expect(left).toEqual(["gone-busy"]);
    expect(await pruneConsumers(db.redis, [keys.stream(1)], GROUPS.projector, 10)).toBe(0); // no such stream: nothing to do
  });

  test("entries read but not handled when stopping are released for others at once", async () => {
    const held = gate();
    let started = 0;
    const handlers: HandlerMap = {
      ...projectorHandlers,
      UserRegistered: async () => {
        started++;
        await held.wait;
      },
    };
    const u = await db.makeUser();
    const ev = (n: number): FeedEvent => ({
      id: String(9300 + n),
      type: "UserRegistered",
      version: 1,
      occurred_at: new Date().toISOString(),
      actor_id: u.id,
      payload: { user_id: u.id, handle: u.handle },
    });
    // Written before the consumer starts: its first read returns all three together.
    await publishEvents(
      db.redis,
      [1, 2, 3].map((n) => ({ stream: keys.stream(0), event: ev(n) })),
    );
    const p = await startTestProjector(db, { handlers, consumerName: "leaving" });
    await waitFor(() => started === 1, 5000, "the first entry to be in hand");
    const stopping = p.stop();
    held.open();
    await stopping;
    const pending = (await db.redis.xpending(keys.stream(0), GROUPS.projector, "-", "+", 10)) as [
      string,
      string,
      number,
      number,
    ][];
    expect(pending).toHaveLength(2);
    for (const [, owner, idle] of pending) {
      expect(owner).toBe("leaving");
      expect(idle).toBeGreaterThanOrEqual(300); // marked idle for the whole claim timeout
    }
  });

  test("a failed entry that another consumer took over meanwhile is left to it", async () => {
    let calls = 0;
    const handlers: HandlerMap = {
      ...projectorHandlers,
      UserRegistered: async (d, e) => {
        calls++;
        if (calls === 1) {
          // Slow enough that another consumer claimed it, then this attempt fails.
          const [entry] = (await d.redis.xrange(keys.stream(0), "-", "+")) as [string, string[]][];
          await d.redis.call("xclaim", keys.stream(0), GROUPS.projector, "the-other-one", 0, entry![0]);
          throw new Error("failed after losing the entry");
        }
        await projectorHandlers.UserRegistered!(d, e);
      },
    };
    const p = await startTestProjector(db, { handlers });
    const u = await db.makeUser();
    await publishEvents(db.redis, [
      {
        stream: keys.stream(0),
        event: {
          id: "9400",
          type: "UserRegistered",
          version: 1,
          occurred_at: new Date().toISOString(),
          actor_id: u.id,
          payload: { user_id: u.id, handle: u.handle },
        },
      },
    ]);
    await p.settle(); // the other consumer never acks; ours takes it back after the claim timeout
    expect(p.logs.some((l) => l.msg === "failed entry is no longer ours; leaving it")).toBe(true);
    expect(await listDeadLetters(db.redis)).toHaveLength(0);
    expect(calls).toBe(2);
    await p.stop();
  });

  test("stop() finishes the entry in hand and leaves the rest pending for others", async () => {
    const held = gate();
    let started = 0;
    const handlers: HandlerMap = {
      ...projectorHandlers,
      PostCreated: async (d, e) => {
        started++;
        await held.wait;
        await projectorHandlers.PostCreated!(d, e);
      },
    };
    const p = await startTestProjector(db, { handlers });
    const a = await db.makeUser();
    for (let i = 0; i < 3; i++)
      await api.call("POST", "/posts", { token: a.token, json: { text: `s${i}` }, headers: idem() });
    await waitFor(() => started === 1, 5000, "the first entry to be in hand");
    const stopping = p.stop();
    held.open();
    await stopping;
    expect(started).toBe(1);
    const done = await db.sql`SELECT count(*)::int AS n FROM user_feed WHERE user_id = ${a.id}`;
    expect(done[0]?.n).toBe(1);
    // The others are picked up by the next consumer.
    const next = await startTestProjector(db);
    await next.settle();
    const all = await db.sql`SELECT count(*)::int AS n FROM user_feed WHERE user_id = ${a.id}`;
    expect(all[0]?.n).toBe(3);
    await next.stop();
  });
});
