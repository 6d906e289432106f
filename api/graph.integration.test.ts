import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { openTestDb, type TestDb, waitFor } from "../db/testing.ts";
import { serveMetrics } from "./metrics.ts";
import { testApp } from "./testing.ts";

// Likes, follows, profiles and authentication over HTTP: happy, error and security cases.

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

const outboxTypes = async () =>
  (await db.sql`SELECT type FROM outbox ORDER BY id`).map((r) => r.type as string);
const newPost = async (token: string) =>
  (
    await api.call("POST", "/posts", {
      token,
      json: { text: "p" },
      headers: { "idempotency-key": crypto.randomUUID() },
    })
  ).body as { id: string };

describe("likes", () => {
  test("like 201, again 200 with no event, unlike 204, again 204 with no event", async () => {
    const [a, b] = await Promise.all([db.makeUser(), db.makeUser()]);
    const p = await newPost(a.token);
    expect(await api.call("POST", "/likes", { token: b.token, json: { post_id: p.id } })).toMatchObject({
      status: 201,
      body: { post_id: p.id, liked: true },
    });
    expect((await api.call("POST", "/likes", { token: b.token, json: { post_id: p.id } })).status).toBe(200);
    expect((await api.call("DELETE", `/likes/${p.id}`, { token: b.token })).status).toBe(204);
    expect((await api.call("DELETE", `/likes/${p.id}`, { token: b.token })).status).toBe(204);
    expect(await outboxTypes()).toEqual(["PostCreated", "PostLiked", "PostUnliked"]);
    const [ev] = await db.sql`SELECT event FROM outbox WHERE type = 'PostLiked'`;
    expect(ev?.event.payload).toEqual({ post_id: p.id, user_id: b.id, author_id: a.id });
  });

  test("liking accepts an Idempotency-Key and replays", async () => {
    const [a, b] = await Promise.all([db.makeUser(), db.makeUser()]);
    const p = await newPost(a.token);
    const h = { "idempotency-key": "like-1" };
    expect(
      (await api.call("POST", "/likes", { token: b.token, json: { post_id: p.id }, headers: h })).status,
    ).toBe(201);
    const again = await api.call("POST", "/likes", { token: b.token, json: { post_id: p.id }, headers: h });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
  });

  test("unliking and unfollowing with an Idempotency-Key replay as 204 with no body", async () => {
    const [a, b] = await Promise.all([db.makeUser(), db.makeUser()]);
    const p = await newPost(a.token);
    await db.like(b, p);
    await db.follow(b, a);
    for (const path of [`/likes/${p.id}`, `/follows/${a.id}`]) {
      const h = { "idempotency-key": `undo-${path}` };
      const first = await api.call("DELETE", path, { token: b.token, headers: h });
      const again = await api.call("DELETE", path, { token: b.token, headers: h });
      expect([first.status, first.headers.get("idempotent-replayed")]).toEqual([204, null]);
      expect([again.status, again.headers.get("idempotent-replayed"), again.body]).toEqual([
        204,
        "true",
        null,
      ]);
    }
    expect(await outboxTypes()).toEqual(["PostCreated", "PostUnliked", "UserUnfollowed"]);
  });

  test("a post that does not exist is 404 and changes nothing; malformed ids are 400", async () => {
    const u = await db.makeUser();
    const r = await api.call("POST", "/likes", { token: u.token, json: { post_id: "7312950014423042" } });
    expect(r.status).toBe(404);
    expect(r.body.code).toBe("post_not_found");
    expect((await api.call("DELETE", "/likes/7312950014423042", { token: u.token })).status).toBe(404);
    for (const body of [
      { post_id: 5 },
      { post_id: "x" },
      {},
      { post_id: "1", extra: true },
      { post_id: "9223372036854775808" },
    ]) {
      const bad = await api.call("POST", "/likes", { token: u.token, json: body });
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe("validation_failed");
    }
    expect((await api.call("DELETE", "/likes/nope", { token: u.token })).status).toBe(400);
    expect(await db.sql`SELECT 1 FROM likes`).toHaveLength(0);
    expect(await outboxTypes()).toEqual([]);
  });
});

describe("follows", () => {
  test("follow 201, again 200, unfollow 204; events only for real changes", async () => {
    const [a, b] = await Promise.all([db.makeUser(), db.makeUser()]);
    expect(await api.call("POST", "/follows", { token: b.token, json: { user_id: a.id } })).toMatchObject({
      status: 201,
      body: { user_id: a.id, following: true },
    });
    expect((await api.call("POST", "/follows", { token: b.token, json: { user_id: a.id } })).status).toBe(
      200,
    );
    expect((await api.call("DELETE", `/follows/${a.id}`, { token: b.token })).status).toBe(204);
    expect((await api.call("DELETE", `/follows/${a.id}`, { token: b.token })).status).toBe(204);
    expect(await outboxTypes()).toEqual(["UserFollowed", "UserUnfollowed"]);
  });

  test("self-follow is 422, a stranger is 404, bad ids are 400; nothing changes", async () => {
    const u = await db.makeUser();
    const self = await api.call("POST", "/follows", { token: u.token, json: { user_id: u.id } });
    expect(self.status).toBe(422);
    expect(self.body.code).toBe("self_follow");
    const ghost = await api.call("POST", "/follows", {
      token: u.token,
      json: { user_id: "7312950014423042" },
    });
    expect(ghost.status).toBe(404);
    expect(ghost.body.code).toBe("user_not_found");
    expect((await api.call("DELETE", "/follows/7312950014423042", { token: u.token })).status).toBe(404);
    expect((await api.call("POST", "/follows", { token: u.token, json: { user_id: 12 } })).status).toBe(400);
    expect((await api.call("DELETE", "/follows/-1", { token: u.token })).status).toBe(400);
    expect(await db.sql`SELECT 1 FROM follows`).toHaveLength(0);
    expect(await outboxTypes()).toEqual([]);
  });
});

describe("profiles and posts of a user", () => {
  test("/me and /users/:id answer the profile shape; 404 for strangers", async () => {
    const [a, b] = await Promise.all([db.makeUser(), db.makeUser()]);
    const me = await api.call("GET", "/me", { token: a.token });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      id: a.id,
      handle: a.handle,
      display_name: a.display_name,
      avatar_url: null,
      avatar_thumb_url: null,
      followers_count: 0,
      following_count: 0,
      posts_count: 0,
      followed_by_me: false,
    });
    await api.call("POST", "/follows", { token: b.token, json: { user_id: a.id } });
    expect((await api.call("GET", `/users/${a.id}`, { token: b.token })).body.followed_by_me).toBe(true);
    expect((await api.call("GET", "/users/7312950014423042", { token: a.token })).status).toBe(404);
  });

  test("/users/:id/posts pages newest first with an opaque cursor, each post once", async () => {
    const a = await db.makeUser();
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await newPost(a.token)).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r: { status: number; body: { items: { id: string }[]; next_cursor: string | null } } =
        await api.call("GET", `/users/${a.id}/posts?limit=5${cursor ? `&cursor=${cursor}` : ""}`, {
          token: a.token,
        });
      expect(r.status).toBe(200);
      seen.push(...r.body.items.map((i: { id: string }) => i.id));
      cursor = r.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });

  test("pagination input is validated: limit 1–100, cursors of this list only", async () => {
    const a = await db.makeUser();
    for (const q of ["limit=0", "limit=101", "limit=abc", "limit=1.5", "cursor=garbage!", "unknown=1"]) {
      const r = await api.call("GET", `/users/${a.id}/posts?${q}`, { token: a.token });
      expect(r.status).toBe(400);
      expect(r.headers.get("content-type")).toContain("application/problem+json");
    }
    const feedCursor = Buffer.from("feed.1.1").toString("base64url");
    const r = await api.call("GET", `/users/${a.id}/posts?cursor=${feedCursor}`, { token: a.token });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe("invalid_cursor");
    for (const q of ["/me?foo=1", `/users/${a.id}?x=`, "/feed?limit=5&limit=6"]) {
      const r = await api.call("GET", q, { token: a.token });
      expect(r.status).toBe(400);
      expect(r.body.code).toBe("validation_failed");
    }
    const huge = Buffer.from("feed.1.99999999999999999999").toString("base64url");
    expect((await api.call("GET", `/feed?cursor=${huge}`, { token: a.token })).body.code).toBe(
      "invalid_cursor",
    );
    const huge2 = Buffer.from("user_posts.1.9999999999999999999").toString("base64url");
    expect((await api.call("GET", `/users/${a.id}/posts?cursor=${huge2}`, { token: a.token })).status).toBe(
      400,
    );
    const f = await api.call("GET", "/feed?limit=500", { token: a.token });
    expect(f.status).toBe(400);
    expect(f.body.errors[0]).toMatchObject({ location: "query", path: "limit" });
  });
});

describe("ops routes", () => {
  test("/health, /ready, /openapi.json and /docs; /metrics only on its own port", async () => {
    expect(await api.call("GET", "/health")).toMatchObject({ status: 200, body: { status: "ok" } });
    expect(await api.call("GET", "/ready")).toMatchObject({
      status: 200,
      body: { status: "ready", postgres: true, redis: true },
    });
    const u = await db.makeUser();
    await api.call("GET", "/me", { token: u.token });
    // The duration is recorded after the response has gone out.
    const series = 'http_request_duration_seconds_count{method="GET",route="/me",status="200"}';
    // Not beside the API, where a gateway would forward it to anyone.
    expect((await api.call("GET", "/metrics")).status).toBe(404);
    const scrape = serveMetrics(api.deps.metrics.registry, 0, "127.0.0.1");
    try {
      const url = `http://127.0.0.1:${scrape.port}`;
      await waitFor(
        async () => (await (await fetch(`${url}/metrics`)).text()).includes(series),
        2000,
        "the /me request to be recorded",
      );
      const metrics = await fetch(`${url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get("content-type")).toContain("text/plain");
      expect((await fetch(`${url}/feed`)).status).toBe(404);
    } finally {
      scrape.stop(true);
    }
    const spec = await api.call("GET", "/openapi.json");
    expect(spec.status).toBe(200);
    const paths = Object.keys(spec.body.paths);
    for (const p of [
      "/feed",
      "/posts",
      "/posts/{id}",
      "/posts/popular",
      "/likes",
      "/likes/{post_id}",
      "/follows",
      "/follows/{user_id}",
      "/me",
      "/users/{id}",
      "/users/{id}/posts",
      "/health",
      "/ready",
    ]) {
      expect(paths).toContain(p);
    }
    expect(paths).not.toContain("/metrics");
    const docs = await api.call("GET", "/docs");
    expect(docs.status).toBe(200);
    expect(docs.headers.get("content-type")).toContain("text/html");
  });

  test("the OpenAPI document carries every request body's JSON schema (found by the fuzzer)", async () => {
    // A global parse hook once made the generator write `content: {}` for every body.
    const spec = await api.call("GET", "/openapi.json");
    const bodies = Object.entries(
      spec.body.paths as Record<string, Record<string, { requestBody?: unknown }>>,
    )
      .flatMap(([path, ops]) =>
        Object.entries(ops).map(([m, op]) => [`${m.toUpperCase()} ${path}`, op] as const),
      )
      .filter(([, op]) => op.requestBody);
    expect(bodies.map(([k]) => k)).toContain("POST /likes");
    for (const [, op] of bodies) {
      const schema = (op.requestBody as { content: Record<string, { schema?: { properties?: object } }> })
        .content["application/json"]?.schema;
      expect(Object.keys(schema?.properties ?? {}).length).toBeGreaterThan(0);
    }
    const likes = spec.body.paths["/likes"].post.requestBody.content["application/json"].schema;
    expect(likes).toMatchObject({ required: ["post_id"], properties: { post_id: { type: "string" } } });
  });

  test("a body nested 100 000 levels deep is a 400 problem, not a stack overflow (found by the fuzzer)", async () => {
    const u = await db.makeUser();
    const deep = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;
    for (const [path, token, body] of [
      ["/auth/refresh", undefined, `{"refresh_token":${deep(10_000)}}`],
      ["/auth/logout", undefined, deep(100_000)],
      ["/likes", u.token, `{"post_id":${deep(100_000)}}`],
    ] as const) {
      const r = await api.call("POST", path, {
        token,
        body,
        headers: { "content-type": "application/json" },
      });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({
        code: "validation_failed",
        detail: "invalid body: nested more than 32 levels deep",
      });
    }
    // Shallow nesting still gets the schema's own answer.
    const shallow = await api.call("POST", "/likes", { token: u.token, json: { post_id: [[["1"]]] } });
    expect(shallow.status).toBe(400);
    expect(shallow.body.errors[0].path).toBe("post_id");
  });

  test("a missing body is a 415 naming JSON; a body declared too large is a 413 before it is read", async () => {
    const u = await db.makeUser();
    const none = await api.call("POST", "/likes", { token: u.token });
    expect(none.status).toBe(415);
    expect(none.body.detail).toContain("JSON");
    const huge = await api.app.handle(
      new Request("http://localhost/me/avatar", {
        method: "PUT",
        headers: {
          authorization: `Bearer ${u.token}`,
          "content-length": String(50 * 1024 * 1024),
          "content-type": "multipart/form-data; boundary=x",
        },
        body: "--x--",
      }),
    );
    expect(huge.status).toBe(413);
    expect(huge.headers.get("content-type")).toContain("application/problem+json");
  });

  test("unknown routes are a 404 problem, and every response carries a request id", async () => {
    const r = await api.call("GET", "/nope");
    expect(r.status).toBe(404);
    expect(r.body.code).toBe("not_found");
    expect(r.body.request_id).toBeTruthy();
    const h = await api.call("GET", "/health", { headers: { "x-request-id": "req-12345678" } });
    expect(h.headers.get("x-request-id")).toBe("req-12345678");
  });

  test("an unexpected failure is a 500 problem naming the request id, with no stack", async () => {
    const { createSql } = await import("../db/client.ts");
    // A database that does not exist: a misconfiguration, not an outage (those are 503s).
    const url = new URL(db.config.DATABASE_URL);
    url.pathname = "/no_such_database";
    const dead = createSql({ url: url.href, max: 1 });
    const broken = testApp({ ...db, sql: dead });
    const u = await db.makeUser();
    const r = await broken.call("POST", "/follows", {
      token: u.token,
      json: { user_id: u.id.replace(/.$/, "1") },
    });
    expect(r.status).toBe(500);
    expect(r.body.code).toBe("internal");
    expect(r.body.detail).toContain(r.body.request_id);
    expect(JSON.stringify(r.body)).not.toContain(".ts:");
    await dead.end({ timeout: 1 });
  });

  test("/ready is a 503 problem when PostgreSQL is unreachable", async () => {
    const { createSql } = await import("../db/client.ts");
    const dead = createSql({ url: "postgres://feed:feed@127.0.0.1:1/none", max: 1 });
    const broken = testApp({ ...db, sql: dead });
    const r = await broken.call("GET", "/ready");
    expect(r.status).toBe(503);
    expect(r.body.code).toBe("not_ready");
    expect(r.body.detail).toContain("PostgreSQL");
    await dead.end({ timeout: 1 });
  });
});
