import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { verifyAccessToken } from "../../core/tokens.ts";
import { openTestDb, type TestDb } from "../../db/testing.ts";
import { testApp } from "../testing.ts";

// The load-test signer: present only with LOAD_TEST_SECRET, guarded by it, and minting tokens
// the api accepts for seeded users (handle s_<n>) only.

const SECRET = "integration-load-test-secret-0123456789";
let db: TestDb;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(async () => {
  await db.close();
});
beforeEach(async () => {
  await db.reset();
});

// The environment may carry a secret (./dev exports one): each test says which it wants.
const appWith = (secret: string | undefined) =>
  testApp(db, {}, { config: { ...db.config, LOAD_TEST_SECRET: secret } });
/** null sends no secret header at all. */
const ask = (api: ReturnType<typeof appWith>, json: unknown, secret: string | null = SECRET) =>
  api.call("POST", "/loadtest/tokens", {
    json,
    headers: secret === null ? {} : { "x-load-test-secret": secret },
  });

describe("POST /loadtest/tokens", () => {
  test("without LOAD_TEST_SECRET the route does not exist: a plain 404 problem", async () => {
    const r = await ask(appWith(undefined), { count: 1 });
    expect(r.status).toBe(404);
    expect(r.headers.get("content-type")).toBe("application/problem+json");
    expect(r.body).toMatchObject({ code: "not_found", status: 404, instance: "/loadtest/tokens" });
    const spec = await appWith(undefined).call("GET", "/openapi.json");
    expect(Object.keys(spec.body.paths)).not.toContain("/loadtest/tokens");
    const enabled = await appWith(SECRET).call("GET", "/openapi.json");
    expect(Object.keys(enabled.body.paths)).toContain("/loadtest/tokens");
  });

  test("a missing or wrong secret is a 401 problem, before the body is even looked at", async () => {
    const api = appWith(SECRET);
    for (const [secret, body] of [
      [null, { count: 1 }],
      ["wrong", { count: 1 }],
      [`${SECRET}x`, { count: 1 }],
      [SECRET.slice(0, -1), { count: 1 }],
      ["wrong", { count: 0, nonsense: true }],
    ] as const) {
      const r = await ask(api, body, secret);
      expect([secret, r.status]).toEqual([secret, 401]);
      expect(r.headers.get("content-type")).toBe("application/problem+json");
      expect(r.headers.get("www-authenticate")).toContain("LoadTestSecret");
      expect(r.body).toMatchObject({
        code: "unauthorized",
        detail: "missing or wrong x-load-test-secret header",
      });
    }
  });

  test("a bad count or offset is a 400 problem naming the field", async () => {
    const api = appWith(SECRET);
    for (const [body, field] of [
      [{ count: 0 }, "count"],
      [{ count: 1001 }, "count"],
      [{ count: "many" }, "count"],
      [{ count: 1.5 }, "count"],
      [{}, "count"],
      [{ count: 1, offset: -1 }, "offset"],
      [{ count: 1, offset: 10_000_001 }, "offset"],
    ] as const) {
      const r = await ask(api, body);
      expect([body, r.status, r.body.code]).toEqual([body, 400, "validation_failed"]);
      expect(r.body.errors[0]).toMatchObject({ location: "body", path: field });
      expect(r.body.detail).toContain(`"${field}"`);
    }
    const extra = await ask(api, { count: 1, user: "1" });
    expect(extra.status).toBe(400);
  });

  test("tokens the api accepts, for users the seeder flagged only, in id order, paged by offset", async () => {
    const seeded = [];
    for (let i = 0; i < 4; i++) seeded.push(await db.makeUser(`s_${i}`, { seeded: true }));
    // A short id (as the seeder's are): as text "999" sorts after the others, as a number first.
    await db.sql`INSERT INTO users (id, handle, display_name, seeded) VALUES (999, 's_4', 'short id', true)`;
    seeded.push({ id: "999" });
    // Real sign-ins: s-jones becomes s_jones, and a handle may even look like the seeder's. No
    // handle makes a user seeded, only the flag.
    for (const h of ["s_jones", "s_5", "sam", "alice"]) await db.makeUser(h);
    const byId = seeded.map((u) => u.id).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    const api = appWith(SECRET);

    const all = await ask(api, { count: 1000 });
    expect(all.status).toBe(200);
    expect(all.body.expires_in).toBe(db.config.ACCESS_TOKEN_TTL_SECONDS);
    expect(all.body.tokens.map((t: { user_id: string }) => t.user_id)).toEqual(byId);
    for (const { user_id, token } of all.body.tokens) {
      expect((await verifyAccessToken(db.config, token)).sub).toBe(user_id);
      const me = await api.call("GET", "/me", { token });
      expect([me.status, me.body.id, me.body.handle]).toEqual([
        200,
        user_id,
        expect.stringMatching(/^s_\d$/),
      ]);
    }

    const page = await ask(api, { count: 2, offset: 2 });
    expect(page.body.tokens.map((t: { user_id: string }) => t.user_id)).toEqual(byId.slice(2, 4));
    expect((await ask(api, { count: 10, offset: 5 })).body.tokens).toEqual([]);
  });
});
