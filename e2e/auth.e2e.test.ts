import { afterAll, describe, expect, test } from "bun:test";
import { loadConfig } from "../core/config.ts";
import { createSql } from "../db/client.ts";

// Sign-in as a person would: a plain HTTP client that keeps cookies and follows redirects,
// through the api and the mock identity provider running as real processes (./dev up).

const config = loadConfig();
const base = process.env.E2E_BASE_URL ?? `http://localhost:${config.PORT}`;
const sql = createSql({ url: config.DATABASE_URL, max: 1 });
afterAll(async () => {
  await sql.end();
});

interface Session {
  access_token: string;
  refresh_token: string;
  token_type: string;
  user: { id: string; handle: string };
}

/** Follows redirects by hand, keeping cookies per host, like `curl -L -c jar -b jar`. */
async function browse(url: string): Promise<Response> {
  const jar = new Map<string, Map<string, string>>();
  let next = new URL(url);
  for (let hop = 0; hop < 10; hop++) {
    const cookies = jar.get(next.host);
    const res = await fetch(next, {
      redirect: "manual",
      headers: cookies?.size ? { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join("; ") } : {},
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const i = pair!.indexOf("=");
      const hostJar = jar.get(next.host) ?? new Map<string, string>();
      hostJar.set(pair!.slice(0, i), pair!.slice(i + 1));
      jar.set(next.host, hostJar);
    }
    if (res.status < 300 || res.status >= 400) return res;
    next = new URL(res.headers.get("location")!, next);
  }
  throw new Error("too many redirects");
}

async function json(
  method: string,
  path: string,
  body?: unknown,
  token?: string,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

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

    const r = await json("POST", "/auth/refresh", { refresh_token: s1.refresh_token });
    expect(r.status).toBe(200);
    const reuse = await json("POST", "/auth/refresh", { refresh_token: s1.refresh_token });
    expect(reuse.status).toBe(401);
    expect(reuse.body.code).toBe("refresh_token_reused");
    expect((await json("POST", "/auth/logout", { refresh_token: s2.refresh_token })).status).toBe(204);
    expect((await json("POST", "/auth/refresh", { refresh_token: s2.refresh_token })).status).toBe(401);

    // The access tokens of a signed-in user work on the core routes.
    const fan = (await (await browse(`${base}/auth/oidc/login?login_hint=${who}fan`)).json()) as Session;
    const post = await json("POST", "/posts", { text: "signed in for real" }, s2.access_token, {
      "idempotency-key": crypto.randomUUID(),
    });
    expect(post.status).toBe(201);
    expect((await json("POST", "/follows", { user_id: s1.user.id }, fan.access_token)).status).toBe(201);
    const me = await json("GET", "/me", undefined, s2.access_token);
    expect(me.body.handle).toBe(who);
    let feed = await json("GET", "/feed", undefined, fan.access_token);
    for (let i = 0; i < 100 && feed.body.items.length === 0; i++) {
      await Bun.sleep(50);
      feed = await json("GET", "/feed", undefined, fan.access_token);
    }
    expect(feed.body.items.map((p: { id: string }) => p.id)).toEqual([post.body.id]);
  });

  test("bad sign-in input gets problem+json", async () => {
    const unknown = await fetch(`${base}/auth/nope/login`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("content-type")).toContain("application/problem+json");
    const noCookie = await fetch(`${base}/auth/oidc/callback?code=x&state=y`);
    expect(noCookie.status).toBe(400);
    const providers = await json("GET", "/auth/providers");
    expect(providers.body.providers.map((p: { name: string }) => p.name)).toContain("oidc");
  });
});
