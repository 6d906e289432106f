import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { feedClient } from "../client/index.ts";
import { randomShard } from "../core/ids.ts";
import { signAccessToken } from "../core/tokens.ts";
import { createSql } from "../db/client.ts";
import { insertUser } from "../db/users.ts";
import { base, config, http } from "./support.ts";

// Black-box: real api and projector processes started by `./dev up`, a real client over HTTP:
// the typed client generated from /openapi.json (client/), so a route that drifts from its
// document breaks this suite's build. Users come from a factory (SSO has its own suite, auth);
// tokens from the same signer the api uses.

const sql = createSql({ url: config.DATABASE_URL, max: 2 });

afterAll(async () => {
  await sql.end();
});

async function user(name: string) {
  const handle = `${name}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e4)}`.slice(0, 30);
  const u = await insertUser(sql, { shard: randomShard(), handle, display_name: name });
  return { ...u, token: (await signAccessToken(config, u.id)).token };
}

async function eventually<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  let v = await f();
  while (!ok(v) && Date.now() < end) {
    await Bun.sleep(50);
    v = await f();
  }
  return v;
}

beforeAll(async () => {
  const ready = await http("GET", "/ready");
  if (ready.status !== 200)
    throw new Error(`the stack is not up at ${base} (run ./dev up): ${JSON.stringify(ready.body)}`);
});

describe("over HTTP against the running stack", () => {
  test("follow → post → the follower's feed shows it; like → the count shows it (the typed client)", async () => {
    const alice = await user("alice");
    const bob = await user("bob");
    const asAlice = feedClient(base, { token: alice.token });
    const asBob = feedClient(base, { token: bob.token });
    expect((await asBob.POST("/follows", { body: { user_id: alice.id } })).response.status).toBe(201);
    const post = await asAlice.POST("/posts", {
      body: { text: "hello from e2e" },
      params: { header: { "idempotency-key": crypto.randomUUID() } },
    });
    expect(post.response.status).toBe(201);
    const postId = post.data!.id;

    const feed = await eventually(
      () => asBob.GET("/feed", { params: { query: { limit: 10 } } }),
      (r) => r.data?.items.length === 1,
    );
    expect(feed.response.status).toBe(200);
    expect(feed.data!.items[0]).toMatchObject({
      id: postId,
      text: "hello from e2e",
      author: { id: alice.id },
      like_count: 0,
    });
    expect(feed.data!.next_cursor).toBeNull();

    expect((await asBob.POST("/likes", { body: { post_id: postId } })).response.status).toBe(201);
    const liked = await eventually(
      () => asBob.GET("/posts/{id}", { params: { path: { id: postId } } }),
      (r) => r.data?.like_count === 1,
    );
    expect(liked.data).toMatchObject({ like_count: 1, liked_by_me: true });
    const profile = await eventually(
      () => asBob.GET("/users/{id}", { params: { path: { id: alice.id } } }),
      (r) => r.data?.followers_count === 1 && r.data?.posts_count === 1,
    );
    expect(profile.data).toMatchObject({ followers_count: 1, posts_count: 1, followed_by_me: true });
  });

  test("bad input gets problem+json, never a 5xx", async () => {
    const u = await user("carol");
    const cases: [string, string, unknown, Record<string, string>, number][] = [
      ["POST", "/posts", { text: "" }, { "idempotency-key": "k1" }, 400],
      ["POST", "/posts", { text: "x" }, {}, 400],
      ["POST", "/follows", { user_id: u.id }, {}, 422],
      ["POST", "/likes", { post_id: "7312950014423042" }, {}, 404],
      ["GET", "/feed?limit=0", undefined, {}, 400],
      ["GET", "/feed?cursor=%%%", undefined, {}, 400],
    ];
    for (const [method, path, body, headers, status] of cases) {
      const r = await http(method, path, u.token, body, headers);
      expect(r.status).toBe(status);
      expect(r.type).toContain("application/problem+json");
    }
    const anon = await http("GET", "/feed");
    expect(anon.status).toBe(401);
  });

  test("the OpenAPI document lists the routes; /docs renders", async () => {
    const spec = await http("GET", "/openapi.json");
    expect(spec.status).toBe(200);
    expect(Object.keys(spec.body.paths)).toEqual(
      expect.arrayContaining(["/feed", "/posts", "/likes", "/follows", "/me", "/users/{id}/posts"]),
    );
    const docs = await fetch(`${base}/docs`);
    expect(docs.status).toBe(200);
  });

  test("the projector serves its metrics", async () => {
    const res = await fetch(`http://127.0.0.1:${config.PROJECTOR_METRICS_PORT}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain("projector_events_total");
    expect(text).toContain("stream_pending_entries");
  });
});
