import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { createRedis, duplicateRedis } from "../core/redis.ts";
import { openTestDb, type TestDb } from "../db/testing.ts";
import { checkRate } from "./plugins/gcra.ts";
import { testApp } from "./testing.ts";

// Rate limits against real Redis: GCRA budgets shared by every api process, 429 problems with
// Retry-After / RateLimit / RateLimit-Policy, per user for reads and writes, per IP for sign-in,
// 0 to disable, and the behaviour without Redis (sign-in closed, the rest open and counted).

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb({
    RATE_LIMIT_READS_PER_MINUTE: "4",
    RATE_LIMIT_WRITES_PER_MINUTE: "3",
    RATE_LIMIT_AUTH_PER_MINUTE: "2",
    TRUSTED_PROXIES: "1",
  });
});
afterAll(async () => {
  await db.close();
});
beforeEach(async () => {
  await db.reset();
  const stale = await db.redis.keys("rate:*");
  if (stale.length) await db.redis.del(...stale);
});

const post = (app: ReturnType<typeof testApp>, token: string, text: string) =>
  app.call("POST", "/posts", { token, json: { text }, headers: { "idempotency-key": crypto.randomUUID() } });

describe("rate limits", () => {
  test("GCRA: the burst passes, the next is refused with the wait, exactly across two processes", async () => {
    const policy = { name: "t", limit: 5, windowSeconds: 60 };
    const a = db.redis;
    const b = duplicateRedis(db.redis); // another api process's connection
    const seen = [];
    for (let i = 0; i < 5; i++) seen.push(await checkRate(i % 2 ? b : a, "rate:t:x", policy));
    expect(seen.map((d) => d.allowed)).toEqual([true, true, true, true, true]);
    expect(seen.map((d) => d.remaining)).toEqual([4, 3, 2, 1, 0]);
    const refused = await checkRate(b, "rate:t:x", policy);
    expect(refused).toMatchObject({ allowed: false, remaining: 0 });
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(11); // one interval: 60 s / 5
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(12);
    // 20 concurrent attempts at a fresh budget of 5: exactly 5 pass (the script is atomic).
    const burst = await Promise.all(
      Array.from({ length: 20 }, (_, i) => checkRate(i % 2 ? a : b, "rate:t:y", policy)),
    );
    expect(burst.filter((d) => d.allowed).length).toBe(5);
    b.disconnect();
  });

  test("writes per user: 429 problem with Retry-After, RateLimit and RateLimit-Policy; reads and others unaffected", async () => {
    const one = testApp(db);
    const two = testApp(db); // a second api process: the budget is shared
    const u = await db.makeUser();
    const other = await db.makeUser();
    const ok1 = await post(one, u.token, "a");
    expect(ok1.status).toBe(201);
    expect(ok1.headers.get("ratelimit-policy")).toBe('"writes";q=3;w=60');
    expect(ok1.headers.get("ratelimit")).toBe('"writes";r=2;t=20');
    expect((await post(two, u.token, "b")).status).toBe(201);
    expect((await post(one, u.token, "c")).status).toBe(201);
    const refused = await post(two, u.token, "d");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("content-type")).toContain("application/problem+json");
    expect(refused.body).toMatchObject({ code: "rate_limited", status: 429, title: "Too many requests" });
    expect(refused.body.detail).toContain("more than 3 writes requests per 60 s");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(refused.headers.get("ratelimit")).toStartWith('"writes";r=0;');
    // Nothing was written by the refused request.
    expect((await db.sql`SELECT count(*)::int AS n FROM posts WHERE author_id = ${u.id}`)[0]!.n).toBe(3);
    // Reads have their own budget; another user has their own.
    expect((await one.call("GET", "/me", { token: u.token })).status).toBe(200);
    expect((await post(one, other.token, "e")).status).toBe(201);
    // The refusal was counted by the process that refused it.
    const text = await two.deps.metrics.registry.getSingleMetricAsString("rate_limited_total");
    expect(text).toContain('rate_limited_total{policy="writes"} 1');
  });

  test("reads per user", async () => {
    const app = testApp(db);
    const u = await db.makeUser();
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await app.call("GET", "/feed", { token: u.token })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
  });

  test("sign-in routes per client IP (the last X-Forwarded-For hop behind one trusted proxy)", async () => {
    const app = testApp(db);
    // What the client wrote, then what the proxy appended (app.handle has no socket address).
    const from = (ip: string) =>
      app.call("GET", "/auth/providers", { headers: { "x-forwarded-for": `10.0.0.1, ${ip}` } });
    expect((await from("192.0.2.1")).status).toBe(200);
    expect((await from("192.0.2.1")).status).toBe(200);
    const refused = await from("192.0.2.1");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("ratelimit-policy")).toBe('"auth";q=2;w=60');
    expect((await from("192.0.2.2")).status).toBe(200);
  });

  test("0 disables a policy: no limit, no headers", async () => {
    const off = await openTestDb({ RATE_LIMIT_WRITES_PER_MINUTE: "0" });
    try {
      const app = testApp(off);
      const u = await off.makeUser();
      for (let i = 0; i < 6; i++) {
        const r = await post(app, u.token, `p${i}`);
        expect(r.status).toBe(201);
        expect(r.headers.get("ratelimit")).toBeNull();
      }
    } finally {
      await off.close();
    }
  });

  test("without Redis: sign-in fails closed (503 problem), other routes fail open and are counted", {
    timeout: 30_000,
  }, async () => {
    const dead = createRedis({ REDIS_URL: "redis://127.0.0.1:1/0" }, "feed-test-dead");
    dead.on("error", () => {});
    try {
      const logged: Record<string, unknown>[] = [];
      const app = testApp(db, {}, { redis: dead, log: (l) => logged.push(l) });
      const signIn = await app.call("GET", "/auth/providers", {
        headers: { "x-forwarded-for": "192.0.2.9" },
      });
      expect(signIn.status).toBe(503);
      expect(signIn.body).toMatchObject({ code: "not_ready" });
      // Which store the limiter uses is for the log, under the request id, not for the client.
      expect(signIn.body.detail).toBe("sign-in is briefly unavailable; retry shortly");
      expect(logged.find((l) => l.request_id === signIn.body.request_id)).toMatchObject({
        code: "not_ready",
        reason: expect.stringContaining("rate limiter (Redis)"),
      });
      const u = await db.makeUser();
      const me = await app.call("GET", "/me", { token: u.token });
      // (It answers, but slowly: each of /me's other Redis reads waits out its retries first.
      // The Redis breaker, core/redis-breaker.ts, is what answers fast while Redis is down.)
      expect(me.status).toBe(200);
      expect(await app.deps.metrics.registry.getSingleMetricAsString("rate_limit_bypassed_total")).toContain(
        'rate_limit_bypassed_total{policy="reads"} 1',
      );
    } finally {
      dead.disconnect();
    }
  });
});
