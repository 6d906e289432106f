import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { signAccessToken } from "../core/tokens.ts";
import { openTestDb, type TestDb } from "../db/testing.ts";
import { testApp } from "./testing.ts";

// Every operation the OpenAPI document marks as needing a bearer token refuses a request without
// a valid one; the list comes from the document, so a new route is covered the day it is added.

let db: TestDb;
let api: ReturnType<typeof testApp>;
beforeAll(async () => {
  db = await openTestDb();
  api = testApp(db);
});
afterAll(async () => {
  await db.close();
});

interface Operation {
  security?: Record<string, string[]>[];
}

/** [method, path with every {param} as 1, needs a token] of each documented operation. */
async function documented(): Promise<[string, string, boolean][]> {
  const doc = (await api.call("GET", "/openapi.json")).body as {
    paths: Record<string, Record<string, Operation>>;
  };
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]): [string, string, boolean] => [
      method.toUpperCase(),
      path.replace(/\{[^}]+\}/g, "1"),
      (op.security ?? []).some((s) => "bearer" in s),
    ]),
  );
}

/** The operations anyone may call: signing in and health. */
const PUBLIC = [
  "GET /health",
  "GET /ready",
  "GET /auth/providers",
  "GET /auth/1/login",
  "GET /auth/1/callback",
  "POST /auth/exchange",
  "POST /auth/refresh",
  "POST /auth/logout",
];

describe("authentication, for every route of the document", () => {
  test("the routes that need no token are exactly the public ones", async () => {
    const open = (await documented()).filter(([, , bearer]) => !bearer).map(([m, p]) => `${m} ${p}`);
    // The load-test signer, where its secret is set, answers to that secret instead.
    const expected = db.config.LOAD_TEST_SECRET ? [...PUBLIC, "POST /loadtest/tokens"] : PUBLIC;
    expect(open.sort()).toEqual([...expected].sort());
  });

  test("every other route is 401 problem+json without a token, with a garbage one, or a forged one", async () => {
    const u = await db.makeUser();
    const forged = await signAccessToken(
      { ...db.config, JWT_SECRET: "another-secret-another-secret-0123456789" },
      u.id,
    );
    const guarded = (await documented()).filter(([, , bearer]) => bearer);
    // The document's list is not short of what a reader, a writer and an uploader use.
    expect(guarded.map(([m, p]) => `${m} ${p}`)).toEqual(
      expect.arrayContaining(["GET /feed", "GET /me", "POST /posts", "PUT /me/avatar", "POST /uploads"]),
    );
    for (const [method, path] of guarded) {
      for (const auth of [undefined, "Bearer nonsense", "Basic dXNlcjpwYXNz", `Bearer ${forged.token}`]) {
        const r = await api.call(method, path, { headers: auth ? { authorization: auth } : {} });
        expect([method, path, auth, r.status, r.body.code]).toEqual([
          method,
          path,
          auth,
          401,
          "unauthorized",
        ]);
        expect(r.headers.get("www-authenticate")).toContain("Bearer");
      }
    }
  });

  test("a valid token of a user that no longer exists is 401", async () => {
    const u = await db.makeUser();
    await db.sql`DELETE FROM users WHERE id = ${u.id}`;
    const r = await api.call("GET", "/me", { token: u.token });
    expect(r.status).toBe(401);
    expect(r.body.detail).toContain("no longer exists");
  });
});
