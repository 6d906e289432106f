import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { openTestDb, type TestDb } from "../../db/testing.ts";
import { type MockIdp, startMockIdp } from "../../e2e/mock-idp/mock-idp.ts";
import { testApp } from "../testing.ts";
import { LOGIN_COOKIE, sealLoginState } from "./login-state.ts";

// The sign-in flow against the bundled mock identity provider (a real HTTP server), the api
// in-process, real PostgreSQL and Redis.

const IDP_PORT = 9411;
const APP = "http://localhost:3999/app/";
let db: TestDb;
let idp: MockIdp;
let api: ReturnType<typeof testApp>;
let logs: Record<string, unknown>[];

beforeAll(async () => {
  idp = await startMockIdp(IDP_PORT);
  db = await openTestDb({
    OIDC_ISSUER: idp.issuer,
    OIDC_CLIENT_ID: "feed-test",
    OIDC_CLIENT_SECRET: "s3cret",
    PUBLIC_URL: "http://localhost:3999",
    AUTH_RETURN_URLS: `${APP},http://localhost:5173/callback`,
  });
});
afterAll(async () => {
  await db.close();
  await idp.stop();
});
beforeEach(async () => {
  await db.reset();
  logs = [];
  api = testApp(db, {}, { log: (l) => logs.push(l) });
});

/** The log line the problem plugin wrote for this response: the one with its request id. */
function loggedFor(r: { headers: Headers; body: { request_id?: string } }) {
  const id = r.headers.get("x-request-id");
  expect(id).toBeTruthy();
  expect(r.body.request_id).toBe(id!);
  const lines = logs.filter((l) => l.request_id === id && l.msg !== "request");
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

/** Starts a login; returns the sealed cookie and the provider's redirect back to us. */
async function begin(hint: string) {
  const login = await api.call("GET", `/auth/oidc/login?login_hint=${hint}`);
  expect(login.status).toBe(302);
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
  const location = login.headers.get("location")!;
  const atIdp = await fetch(location, { redirect: "manual" });
  expect(atIdp.status).toBe(302);
  const back = new URL(atIdp.headers.get("location")!);
  return { cookie, back, location: new URL(location) };
}
const finish = (back: URL, cookie: string) =>
  api.call("GET", `${back.pathname}${back.search}`, { headers: cookie ? { cookie } : {} });
async function signIn(hint: string) {
  const { cookie, back } = await begin(hint);
  const r = await finish(back, cookie);
  expect(r.status).toBe(200);
  return r.body as {
    access_token: string;
    refresh_token: string;
    expires_in: number;
    token_type: string;
    user: { id: string; handle: string };
  };
}
const count = async (table: string) =>
  (await db.sql`SELECT count(*)::int AS n FROM ${db.sql(table)}`)[0]!.n as number;

describe("sign-in through the OIDC provider", () => {
  test("the login redirect carries state, S256 PKCE, nonce and login_hint, and sets a short-lived httpOnly cookie", async () => {
    const login = await api.call("GET", "/auth/oidc/login?login_hint=dora");
    const url = new URL(login.headers.get("location")!);
    expect(url.origin).toBe(idp.issuer);
    expect(url.searchParams.get("redirect_uri")).toBe("http://localhost:3999/auth/oidc/callback");
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    for (const p of ["state", "code_challenge", "nonce"])
      expect(url.searchParams.get(p)?.length).toBeGreaterThanOrEqual(32);
    expect(url.searchParams.get("login_hint")).toBe("dora");
    const cookie = login.headers.get("set-cookie")!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Max-Age=600/);
    expect(cookie).not.toContain(url.searchParams.get("state")!);
  });

  test("the first sign-in creates the user and its event; the second finds the same user", async () => {
    const first = await signIn("alice");
    expect(first).toMatchObject({ token_type: "Bearer", expires_in: 900, user: { handle: "alice" } });
    expect(first.refresh_token).toMatch(/^rt_[A-Za-z0-9_-]{43}$/);
    const me = await api.call("GET", "/me", { token: first.access_token });
    expect(me.body).toMatchObject({ id: first.user.id, handle: "alice", display_name: "Alice" });
    const again = await signIn("alice");
    expect(again.user.id).toBe(first.user.id);
    expect(await count("users")).toBe(1);
    const events = await db.sql`SELECT type, event FROM outbox`;
    expect(events.map((e) => e.type)).toEqual(["UserRegistered"]);
    expect(events[0]!.event.payload).toEqual({ user_id: first.user.id, handle: "alice" });
    const [identity] = await db.sql`SELECT provider, subject, email FROM user_identities`;
    expect(identity).toEqual({ provider: "oidc", subject: "alice", email: "alice@example.test" });
  });

  test("a handle already taken gets a suffix", async () => {
    await db.makeUser("bob");
    const r = await signIn("bob");
    expect(r.user.handle).toMatch(/^bob_\d+$/);
  });

  test("concurrent first sign-ins of one subject make one user", async () => {
    const starts = await Promise.all(Array.from({ length: 6 }, () => begin("carol")));
    const results = await Promise.all(starts.map((s) => finish(s.back, s.cookie)));
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(200));
    expect(new Set(results.map((r) => r.body.user.id)).size).toBe(1);
    expect(await count("users")).toBe(1);
    expect(await count("user_identities")).toBe(1);
  });
});

describe("sign-in failures create nothing", () => {
  async function refused(
    r: { status: number; headers: Headers; body: { code: string; detail: string; request_id?: string } },
    status: number,
    code: string,
    detail: RegExp,
  ) {
    expect(r.status).toBe(status);
    expect(r.body.code).toBe(code);
    expect(r.body.detail).toMatch(detail);
    expect(await count("users")).toBe(0);
    expect(await count("refresh_tokens")).toBe(0);
    return r;
  }

  test("a callback without its cookie", async () => {
    const { back } = await begin("eve");
    await refused(await finish(back, ""), 400, "login_state_invalid", /cookie is missing/);
  });

  test("a state that does not match the cookie", async () => {
    const a = await begin("eve");
    const b = await begin("eve");
    await refused(await finish(a.back, b.cookie), 400, "login_state_invalid", /state does not match/);
  });

  test("a state used twice", async () => {
    const { cookie, back } = await begin("frank");
    expect((await finish(back, cookie)).status).toBe(200);
    await db.sql`TRUNCATE users, user_identities, refresh_tokens, outbox CASCADE`;
    await refused(await finish(back, cookie), 400, "login_state_invalid", /already used/);
  });

  test("a cookie that was tampered with", async () => {
    const { cookie, back } = await begin("gina");
    const broken = cookie.slice(0, -3) + (cookie.endsWith("A") ? "BBB" : "AAA");
    await refused(await finish(back, broken), 400, "login_state_invalid", /not valid/);
  });

  test("a callback without a code", async () => {
    const { cookie, back } = await begin("hal");
    const bare = new URL(back);
    bare.searchParams.delete("code");
    await refused(await finish(bare, cookie), 400, "validation_failed", /no "code"/);
  });

  test("a login state sealed for another provider, presented to this one", async () => {
    const { back } = await begin("hank");
    const state = back.searchParams.get("state")!;
    const sealed = await sealLoginState(db.config, {
      provider: "github",
      state,
      verifier: "v".repeat(43),
      nonce: "n",
    });
    const r = await finish(back, `${LOGIN_COOKIE}=${sealed}`);
    await refused(r, 400, "login_state_invalid", /started for github, not oidc/);
  });

  test("a cookie started for another provider", async () => {
    const { cookie, back } = await begin("hank");
    const r = await api.call("GET", `/auth/github/callback${back.search}`, { headers: { cookie } });
    expect(r.status).toBe(404); // github is not enabled here
    expect(r.body.code).toBe("provider_not_found");
  });

  test("the provider answers with an error: its texts are logged under the request id, never echoed", async () => {
    const { cookie, back } = await begin("ivy");
    const denied = new URL(back);
    denied.searchParams.delete("code");
    denied.searchParams.set("error", "access_denied");
    denied.searchParams.set("error_description", "<b>call 555-0100 to unlock your account</b>");
    const r = await refused(await finish(denied, cookie), 400, "provider_error", /did not complete/);
    const answer = JSON.stringify(r.body);
    expect(answer).not.toContain("access_denied");
    expect(answer).not.toContain("555-0100");
    expect(loggedFor(r)).toMatchObject({
      level: "warn",
      msg: "sign-in refused",
      provider: "oidc",
      code: "provider_error",
      provider_error: "access_denied",
      provider_error_description: "<b>call 555-0100 to unlock your account</b>",
    });
  });

  test("the token endpoint refuses the code: the client gets the catalogue's code and a fixed sentence; the provider's text goes to the log", async () => {
    const { cookie, back } = await begin("jack");
    const secret = "grant 7f3a9 revoked by idp-node-3.corp.internal:8443";
    idp.failNextToken("invalid_grant", { description: secret });
    const r = await refused(
      await finish(back, cookie),
      400,
      "provider_error",
      /refused the authorization code/,
    );
    const answer = JSON.stringify(r.body);
    expect(answer).not.toContain("invalid_grant");
    expect(answer).not.toContain("7f3a9");
    expect(answer).not.toContain("corp.internal");
    expect(r.body).toMatchObject({ title: "The identity provider refused the sign-in", status: 400 });
    expect(loggedFor(r)).toMatchObject({
      msg: "sign-in refused",
      code: "provider_error",
      status: 400,
      path: "/auth/oidc/callback",
      provider_error: "invalid_grant",
      provider_error_description: secret,
    });
  });

  test("a token endpoint failing with a 5xx: a 502 without the exception's text, which is logged", async () => {
    const { cookie, back } = await begin("jade");
    idp.failNextToken("server_error", { status: 503 });
    const r = await finish(back, cookie);
    expect(r.status).toBe(502);
    expect(r.body.code).toBe("provider_unavailable");
    expect(r.body.detail).toBe("the identity provider answered unexpectedly");
    // arctic's own message, which the answer used to quote.
    expect(JSON.stringify(r.body)).not.toContain("Unexpected error response");
    expect(loggedFor(r)).toMatchObject({
      level: "warn",
      msg: "sign-in failed",
      code: "provider_unavailable",
      provider_status: 503,
      error: expect.stringContaining("Unexpected error response"),
    });
  });

  test("a made-up code the provider refuses in its own format is a 400, not a 502 (found by the fuzzer)", async () => {
    // The mock answers an unknown code with a problem+json 400, not OAuth's {"error": …}.
    const { cookie, back } = await begin("jill");
    back.searchParams.set("code", "<script>alert(1)</script>");
    const r = await refused(
      await finish(back, cookie),
      400,
      "provider_error",
      /refused the authorization code/,
    );
    expect(loggedFor(r)).toMatchObject({ provider_status: 400 });
  });

  test("an unreachable provider: the answer names no address; the log does, under the request id", async () => {
    // Nothing listens on this port (the range reserved for this worktree's tests).
    const gone = "http://127.0.0.1:9701";
    const down = testApp(db, {}, { config: { ...db.config, OIDC_ISSUER: gone }, log: (l) => logs.push(l) });
    const r = await down.call("GET", "/auth/oidc/login?login_hint=kim");
    expect(r.status).toBe(502);
    expect(r.body.code).toBe("provider_unavailable");
    expect(r.body.detail).toBe("the identity provider could not be reached");
    const answer = JSON.stringify(r.body);
    expect(answer).not.toContain("127.0.0.1");
    expect(answer).not.toContain("9701");
    const line = loggedFor(r);
    expect(line).toMatchObject({ level: "warn", code: "provider_unavailable", status: 502 });
    expect(String(line.discovery)).toStartWith(gone);
  });

  for (const [name, claims, why] of [
    ["a wrong audience", { aud: "someone-else" }, /aud/],
    ["a wrong issuer", { iss: "http://evil.example" }, /iss/],
    ["a wrong nonce", { nonce: "not-the-one-we-sent" }, /nonce/],
    [
      "an expired ID token",
      { exp: Math.floor(Date.now() / 1000) - 3600, iat: Math.floor(Date.now() / 1000) - 7200 },
      /expired|iat/,
    ],
  ] as const) {
    test(`an ID token with ${name}: the reason is logged, not answered`, async () => {
      const { cookie, back } = await begin("kate");
      idp.tamperNextIdToken(claims);
      const r = await refused(
        await finish(back, cookie),
        401,
        "id_token_invalid",
        /rejected; sign in again$/,
      );
      expect(String(loggedFor(r).reason)).toMatch(why);
    });
  }

  test("an unknown provider", async () => {
    const r = await api.call("GET", "/auth/myspace/login");
    expect(r.status).toBe(404);
    expect(r.body.code).toBe("provider_not_found");
    expect(r.body.detail).toContain("enabled: oidc");
  });

  test("GET /auth/providers lists only the enabled ones", async () => {
    const r = await api.call("GET", "/auth/providers");
    expect(r.body).toEqual({ providers: [{ name: "oidc", login_url: "/auth/oidc/login" }] });
  });
});

describe("refresh tokens", () => {
  const refresh = (token: unknown) => api.call("POST", "/auth/refresh", { json: { refresh_token: token } });

  test("rotation: a new pair each time; the spent token is refused and revokes the family", async () => {
    const s = await signIn("liam");
    const r1 = await refresh(s.refresh_token);
    expect(r1.status).toBe(200);
    expect(r1.body.refresh_token).not.toBe(s.refresh_token);
    expect((await api.call("GET", "/me", { token: r1.body.access_token })).status).toBe(200);
    const r2 = await refresh(r1.body.refresh_token);
    expect(r2.status).toBe(200);

    const reuse = await refresh(s.refresh_token);
    expect(reuse.status).toBe(401);
    expect(reuse.body.code).toBe("refresh_token_reused");
    // The newest token of the family died with it.
    const after = await refresh(r2.body.refresh_token);
    expect(after.status).toBe(401);
    expect(after.body.code).toBe("refresh_token_invalid");
    const live =
      await db.sql`SELECT count(*)::int AS n FROM refresh_tokens WHERE revoked_at IS NULL AND used_at IS NULL`;
    expect(live[0]?.n).toBe(0);
  });

  test("20 concurrent refreshes with one token: exactly one succeeds, never two live branches", async () => {
    const s = await signIn("mia");
    const results = await Promise.all(Array.from({ length: 20 }, () => refresh(s.refresh_token)));
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    expect(results.filter((r) => r.status === 401)).toHaveLength(19);
    const live = await db.sql`
      SELECT count(*)::int AS n FROM refresh_tokens WHERE revoked_at IS NULL AND used_at IS NULL AND idle_expires_at > now()`;
    expect(live[0]!.n).toBeLessThanOrEqual(1);
    const family =
      await db.sql`SELECT count(DISTINCT family_id)::int AS f, count(*)::int AS n FROM refresh_tokens`;
    expect(family[0]).toEqual({ f: 1, n: 2 }); // the original and its one child
  });

  test("logout revokes the family (204); its tokens are refused afterwards", async () => {
    const s = await signIn("noah");
    const r1 = await refresh(s.refresh_token);
    const out = await api.call("POST", "/auth/logout", { json: { refresh_token: r1.body.refresh_token } });
    expect(out.status).toBe(204);
    expect((await refresh(r1.body.refresh_token)).body.code).toBe("refresh_token_invalid");
    expect(
      (await api.call("POST", "/auth/logout", { json: { refresh_token: `rt_${"A".repeat(43)}` } })).status,
    ).toBe(401);
  });

  test("a refused refresh token is a 401 with a challenge, as every 401 must be (found by the fuzzer)", async () => {
    for (const path of ["/auth/refresh", "/auth/logout"]) {
      const r = await api.call("POST", path, { json: { refresh_token: `rt_${"B".repeat(43)}` } });
      expect(r.status).toBe(401);
      expect(r.headers.get("content-type")).toContain("application/problem+json");
      expect(r.headers.get("www-authenticate")).toBe('Bearer realm="feed"');
    }
  });

  test("an expired refresh token is refused", async () => {
    const s = await signIn("olga");
    await db.sql`UPDATE refresh_tokens SET idle_expires_at = now() - interval '1 second'`;
    const r = await refresh(s.refresh_token);
    expect(r.status).toBe(401);
    expect(r.body.detail).toContain("expired");
  });

  test("malformed bodies are 400; a refresh token is not a bearer token", async () => {
    // No token at all, and no cookie: unauthenticated.
    const none = await api.call("POST", "/auth/refresh", { json: {} });
    expect([none.status, none.body.code]).toEqual([401, "refresh_token_invalid"]);
    for (const body of [
      { refresh: "jar" },
      { refresh_token: 5 },
      { refresh_token: "short" },
      { refresh_token: `rt_${"A".repeat(43)}`, extra: 1 },
    ]) {
      const r = await api.call("POST", "/auth/refresh", { json: body });
      expect(r.status).toBe(400);
      expect(r.body.code).toBe("validation_failed");
    }
    const s = await signIn("pete");
    const r = await api.call("GET", "/me", { token: s.refresh_token });
    expect(r.status).toBe(401);
  });
});

describe("sign-in that returns to an app", () => {
  /** Login with return_to, through the IdP, to the callback's answer. */
  async function returnFlow(returnTo: string, hint = "rita") {
    const login = await api.call(
      "GET",
      `/auth/oidc/login?login_hint=${hint}&return_to=${encodeURIComponent(returnTo)}`,
    );
    expect(login.status).toBe(302);
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
    const atIdp = await fetch(login.headers.get("location")!, { redirect: "manual" });
    const back = new URL(atIdp.headers.get("location")!);
    return finish(back, cookie);
  }
  const exchange = (json: unknown, headers: Record<string, string> = {}) =>
    api.call("POST", "/auth/exchange", { json, headers });

  test("the callback returns to the app with a one-time code; the exchange answers the token pair, once", async () => {
    const cb = await returnFlow(APP);
    expect(cb.status).toBe(302);
    expect(cb.headers.get("cache-control")).toBe("no-store");
    const to = new URL(cb.headers.get("location")!);
    expect(`${to.origin}${to.pathname}`).toBe(APP);
    const code = to.searchParams.get("code")!;
    expect(code.length).toBeGreaterThanOrEqual(43);
    const pair = await exchange({ code }, { origin: "http://localhost:3999" });
    expect(pair.status).toBe(200);
    expect(pair.body).toMatchObject({ token_type: "Bearer", user: { handle: "rita" } });
    const me = await api.call("GET", "/me", { token: pair.body.access_token });
    expect(me.body.id).toBe(pair.body.user.id);
    // Single use.
    const again = await exchange({ code });
    expect(again.status).toBe(400);
    expect(again.body.code).toBe("auth_code_invalid");
    // Neither the code nor the tokens are in any log line.
    const logged = JSON.stringify(logs);
    expect(logged).not.toContain(code);
    expect(logged).not.toContain(pair.body.refresh_token);
  });

  test("a return_to not configured exactly is a 400 problem before any redirect", async () => {
    for (const bad of [
      "https://evil.example/app/",
      `${APP}x`,
      "http://localhost:3999/app",
      "http://LOCALHOST:3999/app/",
      "javascript:alert(1)",
    ]) {
      const r = await api.call("GET", `/auth/oidc/login?return_to=${encodeURIComponent(bad)}`);
      expect([bad, r.status, r.body.code]).toEqual([bad, 400, "return_to_invalid"]);
      expect(r.headers.get("location")).toBeNull();
      expect(r.headers.get("set-cookie")).toBeNull();
    }
  });

  test("a code is bound to its app, expires, and bad exchanges are 400 problems", async () => {
    const codeOf = async () =>
      new URL((await returnFlow(APP)).headers.get("location")!).searchParams.get("code")!;
    // Named for another app, or sent from another origin: refused, and spent.
    const a = await codeOf();
    expect((await exchange({ code: a, return_to: "http://localhost:5173/callback" })).body.code).toBe(
      "auth_code_invalid",
    );
    expect((await exchange({ code: a })).status).toBe(400);
    const b = await codeOf();
    expect((await exchange({ code: b }, { origin: "https://evil.example" })).body.code).toBe(
      "auth_code_invalid",
    );
    // Expired: gone from Redis after its 60 s.
    const c = await codeOf();
    const ttl = await db.redis.ttl((await db.redis.keys("auth:code:*"))[0]!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
    for (const k of await db.redis.keys("auth:code:*")) await db.redis.pexpire(k, 1);
    await Bun.sleep(10);
    expect((await exchange({ code: c })).body.code).toBe("auth_code_invalid");
    // Malformed bodies.
    for (const body of [{}, { code: "" }, { code: 5 }, { code: "x", extra: 1 }]) {
      const r = await exchange(body);
      expect([JSON.stringify(body), r.status, r.body.code]).toEqual([
        JSON.stringify(body),
        400,
        "validation_failed",
      ]);
    }
  });
});

describe("the refresh token in a cookie, for browsers", () => {
  const cookieOf = (r: { headers: Headers }) => {
    const c = r.headers.getSetCookie().find((x) => x.startsWith("feed_refresh="));
    return c ?? "";
  };
  async function signedInWithCookie() {
    const login = await api.call(
      "GET",
      `/auth/oidc/login?login_hint=cora&return_to=${encodeURIComponent(APP)}`,
    );
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
    const atIdp = await fetch(login.headers.get("location")!, { redirect: "manual" });
    const cb = await finish(new URL(atIdp.headers.get("location")!), cookie);
    const code = new URL(cb.headers.get("location")!).searchParams.get("code")!;
    return api.call("POST", "/auth/exchange", { json: { code, refresh: "cookie" } });
  }
  const send = (path: string, jar: string, origin = "http://localhost:3999", json: unknown = {}) =>
    api.call("POST", path, { json, headers: { cookie: jar.split(";")[0]!, origin } });

  test("chosen per request: HttpOnly, Secure, SameSite=Strict, Path=/auth, and not in the body", async () => {
    const r = await signedInWithCookie();
    expect(r.status).toBe(200);
    expect(r.body.refresh_token).toBeUndefined();
    expect(r.body.access_token).toBeTruthy();
    const c = cookieOf(r);
    expect(c).toMatch(/^feed_refresh=rt_[A-Za-z0-9_-]{43};/);
    for (const attr of ["HttpOnly", "Secure", "SameSite=Strict", "Path=/auth"]) expect(c).toContain(attr);
  });

  test("refresh rotates the cookie; the spent one revokes the session; logout clears it", async () => {
    const first = cookieOf(await signedInWithCookie());
    const r = await send("/auth/refresh", first);
    expect(r.status).toBe(200);
    expect(r.body.refresh_token).toBeUndefined();
    const second = cookieOf(r);
    expect(second).toMatch(/^feed_refresh=rt_/);
    expect(second.split(";")[0]).not.toBe(first.split(";")[0]);
    // The first cookie again: a replay, so the whole session goes.
    const replay = await send("/auth/refresh", first);
    expect([replay.status, replay.body.code]).toEqual([401, "refresh_token_reused"]);
    expect((await send("/auth/refresh", second)).status).toBe(401);
    // A fresh session, logged out through its cookie.
    const third = cookieOf(await signedInWithCookie());
    const out = await send("/auth/logout", third);
    expect(out.status).toBe(204);
    expect(cookieOf(out)).toMatch(/^feed_refresh=;.*(Max-Age=0|Expires=Thu, 01 Jan 1970)/);
    expect((await send("/auth/refresh", third)).status).toBe(401);
  });

  test("the cookie is refused from another origin (CSRF), and a body token still works without it", async () => {
    const jar = cookieOf(await signedInWithCookie());
    const forged = await send("/auth/refresh", jar, "https://evil.example");
    expect([forged.status, forged.body.code]).toEqual([401, "refresh_token_invalid"]);
    // Not spent by the refused attempt.
    expect((await send("/auth/refresh", jar)).status).toBe(200);
    const s = await signIn("bodil");
    expect(
      (await api.call("POST", "/auth/refresh", { json: { refresh_token: s.refresh_token } })).body
        .refresh_token,
    ).toMatch(/^rt_/);
  });
});
