import { afterAll, describe, expect, test } from "bun:test";
import { createSql } from "../db/client.ts";
import { base, browse, config, http, type Session } from "./support.ts";

// Sign-in as a person would: a plain HTTP client that keeps cookies and follows redirects,
// through the api and the mock identity provider running as real processes (./dev up).

const sql = createSql({ url: config.DATABASE_URL, max: 1 });
afterAll(async () => {
  await sql.end();
});

describe("sign-in over HTTP with the mock identity provider", () => {
  test("first login creates the user, the second finds it; refresh, reuse refused, logout; the tokens work on the core routes", async () => {
    const who = `e2e${Date.now().toString(36)}`;
    const first = await browse(`${base}/auth/oidc/login?login_hint=${who}`);
    expect(first.status).toBe(200);
    const s1 = (await first.json()) as Session;
    expect(s1).toMatchObject({ token_type: "Bearer", user: { handle: who } });
    const events =
      await sql`SELECT type FROM outbox WHERE type = 'UserRegistered' AND event->'payload'->>'user_id' = ${s1.user.id}`;
    expect(events).toHaveLength(1);

    const s2 = (await (await browse(`${base}/auth/oidc/login?login_hint=${who}`)).json()) as Session;
    expect(s2.user.id).toBe(s1.user.id);

    const r = await http("POST", "/auth/refresh", undefined, { refresh_token: s1.refresh_token });
    expect(r.status).toBe(200);
    const reuse = await http("POST", "/auth/refresh", undefined, { refresh_token: s1.refresh_token });
    expect(reuse.status).toBe(401);
    expect(reuse.body.code).toBe("refresh_token_reused");
    expect((await http("POST", "/auth/logout", undefined, { refresh_token: s2.refresh_token })).status).toBe(
      204,
    );
    expect((await http("POST", "/auth/refresh", undefined, { refresh_token: s2.refresh_token })).status).toBe(
      401,
    );

    // The access tokens of a signed-in user work on the core routes.
    const fan = (await (await browse(`${base}/auth/oidc/login?login_hint=${who}fan`)).json()) as Session;
    const post = await http(
      "POST",
      "/posts",
      s2.access_token,
      { text: "signed in for real" },
      {
        "idempotency-key": crypto.randomUUID(),
      },
    );
    expect(post.status).toBe(201);
    expect((await http("POST", "/follows", fan.access_token, { user_id: s1.user.id })).status).toBe(201);
    const me = await http("GET", "/me", s2.access_token);
    expect(me.body.handle).toBe(who);
    let feed = await http("GET", "/feed", fan.access_token);
    for (let i = 0; i < 100 && feed.body.items.length === 0; i++) {
      await Bun.sleep(50);
      feed = await http("GET", "/feed", fan.access_token);
    }
    expect(feed.body.items.map((p: { id: string }) => p.id)).toEqual([post.body.id]);
  });

  test("bad sign-in input gets problem+json", async () => {
    const unknown = await fetch(`${base}/auth/nope/login`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("content-type")).toContain("application/problem+json");
    const noCookie = await fetch(`${base}/auth/oidc/callback?code=x&state=y`);
    expect(noCookie.status).toBe(400);
    const providers = await http("GET", "/auth/providers");
    expect(providers.body.providers.map((p: { name: string }) => p.name)).toContain("oidc");
  });
});
