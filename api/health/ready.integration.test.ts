import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { createRedis } from "../../core/redis.ts";
import { openTestDb, type TestDb, waitFor } from "../../db/testing.ts";
import { testApp } from "../testing.ts";

// /ready's answer is shared for READY_CACHE_MS per process: however often it is asked, the
// dependencies are pinged once a window; draining still answers 503 at once.

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(async () => {
  await db.close();
});
beforeEach(() => {
  db.resetCount();
});

/** A window no test outlives: everything inside one test is within it. */
const LONG = 60_000;

describe("/ready's shared answer", () => {
  test("concurrent and repeated calls within the window send PostgreSQL one ping", async () => {
    const app = testApp(db, {}, { config: { ...db.config, READY_CACHE_MS: LONG } });
    const first = await Promise.all(Array.from({ length: 10 }, () => app.call("GET", "/ready")));
    for (let i = 0; i < 5; i++) first.push(await app.call("GET", "/ready"));
    expect(first.map((r) => r.status)).toEqual(Array(15).fill(200));
    expect(first[14]!.body).toEqual({ status: "ready", postgres: true, redis: true });
    expect(db.queryCount()).toBe(1);
  });

  test("with a window of 0 every call checks", async () => {
    const app = testApp(db, {}, { config: { ...db.config, READY_CACHE_MS: 0 } });
    for (let i = 0; i < 3; i++) expect((await app.call("GET", "/ready")).status).toBe(200);
    expect(db.queryCount()).toBe(3);
  });

  test("a dependency that goes down turns the answer to 503 once the window has passed", async () => {
    const redis = createRedis(db.config, "feed-test-ready");
    redis.on("error", () => {});
    try {
      const app = testApp(db, {}, { redis, config: { ...db.config, READY_CACHE_MS: 50 } });
      expect((await app.call("GET", "/ready")).status).toBe(200);
      redis.disconnect(); // this client's Redis is gone for good
      await waitFor(
        async () => (await app.call("GET", "/ready")).status === 503,
        10_000,
        "/ready to say 503",
      );
      const r = await app.call("GET", "/ready");
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ code: "not_ready", detail: "Redis not reachable" });
    } finally {
      redis.disconnect();
    }
  });

  test("draining answers 503 at once, whatever the shared answer says, and is not shared", async () => {
    const lifecycle = { draining: false };
    const app = testApp(db, {}, { lifecycle, config: { ...db.config, READY_CACHE_MS: LONG } });
    expect((await app.call("GET", "/ready")).status).toBe(200);
    lifecycle.draining = true;
    const r = await app.call("GET", "/ready");
    expect(r.status).toBe(503);
    expect(r.body.detail).toBe("shutting down: draining requests");
    // (Not a real sequence; it shows the 503 was never stored as the shared answer.)
    lifecycle.draining = false;
    expect((await app.call("GET", "/ready")).status).toBe(200);
    expect(db.queryCount()).toBe(1);
  });
});
