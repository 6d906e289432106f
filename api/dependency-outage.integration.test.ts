import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createRedis } from "../core/redis.ts";
import { createSql } from "../db/client.ts";
import { insertOwnFeedItem } from "../db/projections.ts";
import { openTestDb, privateRedis, type TestDb, waitFor } from "../db/testing.ts";
import { testApp } from "./testing.ts";

// A backing service that is down or hung is not the client's mistake. Without PostgreSQL the api
// answers a 503 problem with Retry-After, promptly. Without Redis, reads degrade to PostgreSQL
// (slower, never wrong), a command whose rows committed stays committed (the outbox publishes
// it once Redis is back), and what cannot work without Redis (sign-in's rate limit, /ready)
// answers 503. The chaos suite (perf/chaos.ts) does the same with real processes under load;
// these pin the behaviour in-process.

let db: TestDb;
let withAuthLimit: TestDb["config"];
beforeAll(async () => {
  db = await openTestDb();
  // /ready asks at every call here: these tests watch it change within a second.
  withAuthLimit = { ...db.config, RATE_LIMIT_AUTH_PER_MINUTE: 60, READY_CACHE_MS: 0 };
});
afterAll(async () => {
  await db.close();
});

/** A user with one post in their own feed, written while Redis was fine. */
async function userWithPost() {
  const u = await db.makeUser();
  const post = await testApp(db).call("POST", "/posts", {
    token: u.token,
    json: { text: `before the outage ${u.id}` },
    headers: { "idempotency-key": crypto.randomUUID() },
  });
  expect(post.status).toBe(201);
  await insertOwnFeedItem(db.sql, post.body.id, u.id); // the projector's part
  return { ...u, postId: post.body.id as string };
}

/** The reads that degrade: feed, one post, popular; each answered from PostgreSQL. */
async function expectReadsFromPostgres(
  app: ReturnType<typeof testApp>,
  u: { token: string; postId: string },
) {
  const feed = await app.call("GET", "/feed", { token: u.token });
  expect(feed.status).toBe(200);
  expect(feed.body.items.map((p: { id: string }) => p.id)).toEqual([u.postId]);
  const one = await app.call("GET", `/posts/${u.postId}`, { token: u.token });
  expect(one.status).toBe(200);
  expect(one.body).toMatchObject({ id: u.postId, like_count: 0, liked_by_me: false });
  expect((await app.call("GET", "/posts/popular", { token: u.token })).status).toBe(200);
}

/** What needs Redis to be safe says so: sign-in fails closed, readiness is off. */
async function expectRedisNeeded(app: ReturnType<typeof testApp>) {
  // (./dev turns the limits off for its benchmarks; sign-in's must be on to fail closed.)
  const signIn = await app.call("GET", "/auth/providers", { headers: { "x-forwarded-for": "192.0.2.44" } });
  expect(signIn.status).toBe(503);
  expect(signIn.headers.get("content-type")).toBe("application/problem+json");
  const ready = await app.call("GET", "/ready");
  expect(ready.status).toBe(503);
  expect(ready.body.detail).toBe("Redis not reachable");
}

// biome-ignore lint/suspicious/noExplicitAny: tests read loosely typed JSON bodies
function expectOutage(r: { status: number; headers: Headers; body: any }, service: string) {
  expect(r.status).toBe(503);
  expect(r.headers.get("content-type")).toBe("application/problem+json");
  expect(r.headers.get("retry-after")).toBe("1");
  expect(r.body).toMatchObject({ code: "dependency_unavailable", status: 503 });
  expect(r.body.detail).toBe(`${service} is unavailable; retry shortly`);
}

describe("PostgreSQL unreachable", () => {
  test("reads and commands answer 503 problem+json naming PostgreSQL; /ready says so", async () => {
    const dead = createSql({ url: "postgres://feed:feed@127.0.0.1:1/feed_test", max: 2 });
    try {
      const u = await db.makeUser();
      const app = testApp(db, {}, { sql: dead, plannedSql: dead });
      expectOutage(await app.call("GET", "/feed", { token: u.token }), "a backing service");
      const ready = await app.call("GET", "/ready");
      expect(ready.status).toBe(503);
      expect(ready.body.detail).toBe("PostgreSQL not reachable");
    } finally {
      await dead.end();
    }
  });
});

describe("Redis unreachable", () => {
  test("reads come from PostgreSQL; a post still commits, its event left to the sweeper", {
    timeout: 20_000,
  }, async () => {
    // Never connected: commands queue for the reconnect, each bounded by its timeout.
    const dead = createRedis(
      { REDIS_URL: "redis://127.0.0.1:1/0", REDIS_COMMAND_TIMEOUT_MS: 300 },
      "feed-test-dead",
    );
    dead.on("error", () => {});
    try {
      const u = await userWithPost();
      const app = testApp(db, {}, { redis: dead, config: withAuthLimit });
      await expectReadsFromPostgres(app, u);
      await expectRedisNeeded(app);
      const post = await app.call("POST", "/posts", {
        token: u.token,
        json: { text: "written while Redis is away" },
        headers: { "idempotency-key": crypto.randomUUID() },
      });
      expect(post.body).toMatchObject({ text: "written while Redis is away" });
      expect(post.status).toBe(201);
      const rows = await db.sql<{ published: boolean }[]>`
        SELECT published_at IS NOT NULL AS published FROM outbox
        WHERE event->'payload'->>'post_id' = ${post.body.id}`;
      expect([...rows]).toEqual([{ published: false }]);
    } finally {
      dead.disconnect();
    }
  });
});

describe("a real Redis killed, and hung", () => {
  const redisServer = privateRedis();
  beforeAll(() => redisServer.start());
  afterAll(() => redisServer.stop());

  test("killed: the api's fail-fast client does not wait out its retries; it reconnects by itself", {
    timeout: 20_000,
  }, async () => {
    // A command timeout far above the test's own: only failing fast can make this pass.
    const redis = createRedis(
      { REDIS_URL: redisServer.url, REDIS_COMMAND_TIMEOUT_MS: 60_000 },
      "feed-test-fail-fast",
      { failFast: true },
    );
    redis.on("error", () => {});
    try {
      const u = await userWithPost();
      const app = testApp(db, {}, { redis, config: withAuthLimit });
      await waitFor(() => redis.status === "ready", 5_000, "the first connection");
      redisServer.server().kill("SIGKILL");
      await redisServer.server().exited;
      await waitFor(() => redis.status !== "ready", 5_000, "the client to see the connection drop");
      await expectReadsFromPostgres(app, u);
      await expectRedisNeeded(app);
      await redisServer.start();
      await waitFor(() => redis.status === "ready", 10_000, "the reconnect");
      expect((await app.call("GET", "/ready")).status).toBe(200);
    } finally {
      redis.disconnect();
    }
  });

  test("hung (SIGSTOP): REDIS_COMMAND_TIMEOUT_MS ends each wait; the same client works once Redis resumes", {
    timeout: 20_000,
  }, async () => {
    // The connection stays open and nothing answers: only the command timeout ends the wait.
    const redis = createRedis(
      { REDIS_URL: redisServer.url, REDIS_COMMAND_TIMEOUT_MS: 300 },
      "feed-test-hung",
    );
    redis.on("error", () => {});
    try {
      const u = await userWithPost();
      const app = testApp(db, {}, { redis, config: withAuthLimit });
      expect((await app.call("GET", "/feed", { token: u.token })).status).toBe(200);
      redisServer.server().kill("SIGSTOP");
      await expectReadsFromPostgres(app, u);
      await expectRedisNeeded(app);
      redisServer.server().kill("SIGCONT");
      await waitFor(async () => (await app.call("GET", "/ready")).status === 200);
    } finally {
      redis.disconnect();
    }
  });
});
