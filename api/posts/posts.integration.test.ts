import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { tryLockKey } from "../../db/idempotency.ts";
import { openTestDb, type TestDb } from "../../db/testing.ts";
import { testApp } from "../testing.ts";

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

const key = () => crypto.randomUUID();
const count = async (table: "posts" | "outbox" | "idempotency_keys") =>
  (await db.sql`SELECT count(*)::int AS n FROM ${db.sql(table)}`)[0]!.n as number;

describe("POST /posts — happy", () => {
  test("201 with the post in the documented shape, one outbox row, text trimmed", async () => {
    const u = await db.makeUser();
    const r = await api.call("POST", "/posts", {
      token: u.token,
      json: { text: "  hello world  " },
      headers: { "idempotency-key": key() },
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      text: "hello world",
      author: { id: u.id, handle: u.handle, display_name: u.display_name, avatar_url: null },
      image: null,
      like_count: 0,
      liked_by_me: false,
    });
    expect(r.body.id).toMatch(/^[1-9][0-9]+$/);
    expect(Date.parse(r.body.created_at)).toBeGreaterThan(Date.now() - 60_000);
    const [ev] = await db.sql`SELECT type, event FROM outbox`;
    expect(ev?.type).toBe("PostCreated");
    expect(ev?.event).toMatchObject({
      type: "PostCreated",
      version: 1,
      actor_id: u.id,
      payload: { post_id: r.body.id, author_id: u.id },
    });
    const fetched = await api.call("GET", `/posts/${r.body.id}`, { token: u.token });
    expect(fetched.body).toEqual(r.body);

    // One statement claims the key and writes the post, the outbox row and the stored answer
    // (db/posts.ts createPostOnce); the 201 is built from it and the viewer's card, not read
    // back. The second statement marks the outbox row published (testApp marks per command).
    db.resetCount();
    const second = await api.call("POST", "/posts", {
      token: u.token,
      json: { text: "again" },
      headers: { "idempotency-key": key() },
    });
    expect(second.status).toBe(201);
    expect(db.queryCount()).toBe(2);
    expect((await api.call("GET", `/posts/${second.body.id}`, { token: u.token })).body).toEqual(second.body);
  });

  test("500 characters (counted as characters, not bytes) are accepted", async () => {
    const u = await db.makeUser();
    const r = await api.call("POST", "/posts", {
      token: u.token,
      json: { text: "é".repeat(250) + "🙂".repeat(250) },
      headers: { "idempotency-key": key() },
    });
    expect(r.status).toBe(201);
  });
});

describe("POST /posts — idempotency", () => {
  test("the same key and body replays the stored response, creating nothing", async () => {
    const u = await db.makeUser();
    const k = key();
    const a = await api.call("POST", "/posts", {
      token: u.token,
      json: { text: "once" },
      headers: { "idempotency-key": k },
    });
    const b = await api.call("POST", "/posts", {
      token: u.token,
      json: { text: "once" },
      headers: { "idempotency-key": k },
    });
    expect(b.status).toBe(201);
    expect(b.body).toEqual(a.body);
    expect(b.headers.get("idempotent-replayed")).toBe("true");
    expect(await count("posts")).toBe(1);
    expect(await count("outbox")).toBe(1);
  });

  test("the same key with another body is 422; nothing changes", async () => {
    const u = await db.makeUser();
    const k = key();
    await api.call("POST", "/posts", {
      token: u.token,
      json: { text: "first" },
      headers: { "idempotency-key": k },
    });
    const r = await api.call("POST", "/posts", {
      token: u.token,
      json: { text: "second" },
      headers: { "idempotency-key": k },
    });
    expect(r.status).toBe(422);
    expect(r.body.code).toBe("idempotency_key_reused");
    expect(await count("posts")).toBe(1);
  });

  test("keys are scoped per user: another user's same key is a new request", async () => {
    const [u, v] = await Promise.all([db.makeUser(), db.makeUser()]);
    const k = key();
    expect(
      (
        await api.call("POST", "/posts", {
          token: u.token,
          json: { text: "a" },
          headers: { "idempotency-key": k },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await api.call("POST", "/posts", {
          token: v.token,
          json: { text: "a" },
          headers: { "idempotency-key": k },
        })
      ).status,
    ).toBe(201);
    expect(await count("posts")).toBe(2);
  });

  test("409 while the first request with the key is still in flight", async () => {
    const u = await db.makeUser();
    const k = key();
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => {
      locked = r;
    });
    const holder = db.sql.begin(async (tx) => {
      expect(await tryLockKey(tx, u.id, "POST /posts", k)).toBe(true);
      locked();
      await held;
    });
    await isLocked;
    const r = await api.call("POST", "/posts", {
      token: u.token,
      json: { text: "x" },
      headers: { "idempotency-key": k },
    });
    release();
    await holder;
    expect(r.status).toBe(409);
    expect(r.body.code).toBe("idempotency_in_flight");
    expect(r.headers.get("retry-after")).toBe("1");
    expect(await count("posts")).toBe(0);
  });

  test("50 concurrent requests with one key make one post and one event", async () => {
    const u = await db.makeUser();
    const k = key();
    const rs = await Promise.all(
      Array.from({ length: 50 }, () =>
        api.call("POST", "/posts", {
          token: u.token,
          json: { text: "race" },
          headers: { "idempotency-key": k },
        }),
      ),
    );
    // One request made the post; the others ran while it held the key (409) or after it
    // committed (its stored answer, marked replayed).
    const made = rs.filter((r) => r.status === 201 && r.headers.get("idempotent-replayed") === null);
    const replays = rs.filter((r) => r.headers.get("idempotent-replayed") === "true");
    const busy = rs.filter((r) => r.status === 409);
    expect(made.length).toBe(1);
    expect(made.length + replays.length + busy.length).toBe(50);
    expect(busy.every((r) => r.body.code === "idempotency_in_flight")).toBe(true);
    expect(replays.every((r) => r.status === 201 && r.body.id === made[0]!.body.id)).toBe(true);
    expect(await count("posts")).toBe(1);
    expect(await count("outbox")).toBe(1);
    // And once it is over, every retry is a replay of the same post.
    const again = await api.call("POST", "/posts", {
      token: u.token,
      json: { text: "race" },
      headers: { "idempotency-key": k },
    });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body.id).toBe(made[0]!.body.id);
  });

  test("a first request that commits after the statement began is replayed, not repeated", async () => {
    const u = await db.makeUser();
    const first = await api.call("POST", "/posts", {
      token: u.token,
      json: { text: "once" },
      headers: { "idempotency-key": "k1" },
    });
    // A writer that stores key k2 without its advisory lock, and commits only once the
    // request's statement waits on the key's unique index: the statement took its snapshot
    // before the row existed, so only the unique key can stop it.
    let commit!: () => void;
    const go = new Promise<void>((r) => {
      commit = r;
    });
    let stored!: () => void;
    const isStored = new Promise<void>((r) => {
      stored = r;
    });
    const holder = db.sql.begin(async (tx) => {
      await tx`
        INSERT INTO idempotency_keys (user_id, route, key, fingerprint, status, response, expires_at)
        SELECT user_id, route, 'k2', fingerprint, status, response, expires_at FROM idempotency_keys
        WHERE user_id = ${u.id} AND key = 'k1'`;
      stored();
      await go;
    });
    await isStored;
    const second = api.call("POST", "/posts", {
      token: u.token,
      json: { text: "once" },
      headers: { "idempotency-key": "k2" },
    });
    let waited = false;
    for (let i = 0; i < 500 && !waited; i++) {
      const [w] = await db.sql`
        SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'`;
      waited = w!.n > 0;
      if (!waited) await Bun.sleep(10);
    }
    commit();
    expect(waited).toBe(true);
    await holder;
    const r = await second;
    expect(r.status).toBe(201);
    expect(r.headers.get("idempotent-replayed")).toBe("true");
    expect(r.body.id).toBe(first.body.id);
    expect(await count("posts")).toBe(1);
    expect(await count("outbox")).toBe(1);
  });

  test("an expired key that the purge has not removed yet is used afresh", async () => {
    const u = await db.makeUser();
    const first = await api.call("POST", "/posts", {
      token: u.token,
      json: { text: "old" },
      headers: { "idempotency-key": "k" },
    });
    await db.sql`UPDATE idempotency_keys SET expires_at = now() - interval '1 second'`;
    const r = await api.call("POST", "/posts", {
      token: u.token,
      json: { text: "old" },
      headers: { "idempotency-key": "k" },
    });
    expect(r.status).toBe(201);
    expect(r.headers.get("idempotent-replayed")).toBeNull();
    expect(r.body.id).not.toBe(first.body.id);
    expect(await count("posts")).toBe(2);
    expect(await count("idempotency_keys")).toBe(1);
  });
});

describe("POST /posts — bad input changes nothing", () => {
  const cases: [
    string,
    { json?: unknown; body?: string; headers?: Record<string, string> },
    number,
    string,
    string?,
  ][] = [
    ["missing Idempotency-Key", { json: { text: "x" }, headers: {} }, 400, "idempotency_key_missing"],
    [
      "an Idempotency-Key with spaces",
      { json: { text: "x" }, headers: { "idempotency-key": "a b" } },
      400,
      "idempotency_key_invalid",
    ],
    ["empty text", { json: { text: "" } }, 400, "validation_failed", "text"],
    ["whitespace-only text", { json: { text: " \n\t " } }, 400, "validation_failed", "text"],
    ["501 characters", { json: { text: "x".repeat(501) } }, 400, "validation_failed", "text"],
    ["a NUL character", { json: { text: "a\u0000b" } }, 400, "validation_failed", "text"],
    ["other control characters", { json: { text: "bell\u0007" } }, 400, "validation_failed", "text"],
    [
      "a lone surrogate (found by ./dev fuzz)",
      { body: '{"text":"a\\ud800"}', headers: { "content-type": "application/json" } },
      400,
      "validation_failed",
      "text",
    ],
    ["text of the wrong type", { json: { text: 42 } }, 400, "validation_failed", "text"],
    ["missing text", { json: {} }, 400, "validation_failed", "text"],
    ["an unknown field", { json: { text: "x", author_id: "1" } }, 400, "validation_failed", "author_id"],
    ["a JSON array", { json: ["x"] }, 400, "validation_failed"],
    [
      "malformed JSON",
      { body: '{"text": ', headers: { "content-type": "application/json" } },
      400,
      "malformed_json",
    ],
    [
      "a non-JSON content type",
      { body: "text=x", headers: { "content-type": "application/x-www-form-urlencoded" } },
      415,
      "unsupported_media_type",
    ],
  ];
  for (const [name, req, status, code, field] of cases) {
    test(`${name} → ${status} ${code}`, async () => {
      const u = await db.makeUser();
      const headers = req.headers ?? { "idempotency-key": key() };
      if (!("idempotency-key" in headers) && name !== "missing Idempotency-Key")
        headers["idempotency-key"] = key();
      const r = await api.call("POST", "/posts", { token: u.token, ...req, headers });
      expect(r.status).toBe(status);
      expect(r.headers.get("content-type")).toContain("application/problem+json");
      expect(r.body).toMatchObject({ status, code, type: `/problems/${code}`, instance: "/posts" });
      expect(r.body.detail.length).toBeGreaterThan(5);
      if (field) expect(JSON.stringify(r.body)).toContain(field);
      expect(await count("posts")).toBe(0);
      expect(await count("outbox")).toBe(0);
    });
  }
});

describe("GET /posts/:id", () => {
  test("404 for a post that does not exist, 400 for a malformed or out-of-range id", async () => {
    const u = await db.makeUser();
    const missing = await api.call("GET", "/posts/7312950014423042", { token: u.token });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe("post_not_found");
    for (const bad of ["abc", "0", "-5", "99999999999999999999", "9223372036854775808"]) {
      const r = await api.call("GET", `/posts/${bad}`, { token: u.token });
      expect(r.status).toBe(400);
      expect(r.body.code).toBe("validation_failed");
    }
  });
});
