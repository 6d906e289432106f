import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { createRedis } from "../../core/redis.ts";
import { keys, POPULAR_MARKER } from "../../core/redis-keys.ts";
import {
  holdTableLock,
  openTestDb,
  privateRedis,
  type TestDb,
  waitFor,
  waitsOnLock,
} from "../../db/testing.ts";
import { startTestProjector } from "../../projector/testing.ts";
import { testApp } from "../testing.ts";

// GET /posts/popular's cache: the answer of no liked posts is cached like any other, the
// projector's like updates still reach it, and Redis failing during the fill costs the fill only.

let db: TestDb;
let api: ReturnType<typeof testApp>;

beforeAll(async () => {
  db = await openTestDb();
});
afterAll(async () => {
  await db.close();
});
beforeEach(async () => {
  await db.reset();
  api = testApp(db);
});

async function post(token: string, text: string): Promise<string> {
  const r = await api.call("POST", "/posts", {
    token,
    json: { text },
    headers: { "idempotency-key": crypto.randomUUID() },
  });
  expect(r.status).toBe(201);
  return r.body.id;
}
const popular = async (token: string): Promise<string[]> => {
  const r = await api.call("GET", "/posts/popular", { token });
  expect(r.status).toBe(200);
  return r.body.items.map((i: { id: string }) => i.id);
};

describe("the empty ranking", () => {
  test("is cached: the second read sends PostgreSQL nothing", async () => {
    const u = await db.makeUser();
    await post(u.token, "nobody likes this yet");
    expect(await popular(u.token)).toEqual([]);
    db.resetCount();
    expect(await popular(u.token)).toEqual([]);
    expect(db.queryCount()).toBe(0);
    // The same lifetime as a ranking of posts.
    const ttl = await db.redis.ttl(keys.popular);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300);
    expect(await db.redis.zrange(keys.popular, "0", "-1")).toEqual([POPULAR_MARKER]);
  });

  test("is updated by the projector when a post gets its first like, and emptied by the unlike", async () => {
    const proj = await startTestProjector(db);
    try {
      const alice = await db.makeUser();
      const bob = await db.makeUser();
      const p = await post(alice.token, "like me");
      await proj.settle();
      expect(await popular(bob.token)).toEqual([]);
      expect((await api.call("POST", "/likes", { token: bob.token, json: { post_id: p } })).status).toBe(201);
      await proj.settle();
      // The projector updates only a cached set: the marker kept the empty one alive for it.
      expect(await db.redis.zrange(keys.popular, "0", "-1", "WITHSCORES")).toEqual([
        POPULAR_MARKER,
        "-inf",
        p,
        "1",
      ]);
      expect(await popular(bob.token)).toEqual([p]);
      expect((await api.call("DELETE", `/likes/${p}`, { token: bob.token })).status).toBe(204);
      await proj.settle();
      expect(await popular(bob.token)).toEqual([]);
      expect(await db.redis.zrange(keys.popular, "0", "-1")).toEqual([POPULAR_MARKER]);
    } finally {
      await proj.stop();
    }
  });
});

describe("Redis hanging during the cache fill", () => {
  const redisServer = privateRedis();
  beforeAll(() => redisServer.start());
  afterAll(() => redisServer.stop());

  test("the answer still comes from PostgreSQL: the fill goes through the breaker, like every other read's", {
    timeout: 20_000,
  }, async () => {
    const redis = createRedis(
      { REDIS_URL: redisServer.url, REDIS_COMMAND_TIMEOUT_MS: 300 },
      "feed-test-popular",
    );
    redis.on("error", () => {});
    const alice = await db.makeUser();
    const p = await post(alice.token, "liked before the hang");
    // The projector's part, done by hand: one like counted.
    await db.sql`INSERT INTO post_stats (shard, post_id, like_count, post_created_at)
                 SELECT shard, id, 1, created_at FROM posts WHERE id = ${p}`;
    const lock = await holdTableLock(db.sql, "post_stats", "ACCESS EXCLUSIVE");
    try {
      await waitFor(
        async () => (await redis.ping().catch(() => "")) === "PONG",
        10_000,
        "the client's connection",
      );
      const app = testApp(db, {}, { redis });
      // The cache misses while Redis answers; the request then waits on PostgreSQL's ranking…
      const pending = app.call("GET", "/posts/popular", { token: alice.token });
      await waitFor(() => waitsOnLock(db.sql, "%post_stats%"), 10_000, "the ranking to wait on the lock");
      // …and Redis hangs before the fill.
      redisServer.server().kill("SIGSTOP");
      await lock.release();
      const r = await pending;
      expect(r.status).toBe(200);
      expect(r.body.items.map((i: { id: string }) => i.id)).toEqual([p]);
    } finally {
      await lock.release();
      redisServer.server().kill("SIGCONT");
      redis.disconnect();
    }
  });
});
