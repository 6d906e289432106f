import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { createApp, type Deps } from "../../api/app.ts";
import { createApiMetrics } from "../../api/metrics.ts";
import { loadTestConfig } from "../../db/testing.ts";
import { generateRequests } from "./generate.ts";
import { findDocumentDefects, listOperations, loadOpenApi, type Operation } from "./openapi.ts";
import { toRequest } from "./request.ts";
import { matchOperation } from "./run-fuzz.ts";
import { findViolation, generateValue } from "./schema-values.ts";
import type { FuzzWorld } from "./world.ts";

// The generator against the app's real OpenAPI document (served without touching PostgreSQL or
// Redis): every operation is reached, every request is one fetch can send, and the sentinels
// the BOLA checks rely on are never asked for.

// Serving the document reads none of these.
const deps = { sql: {}, redis: {}, config: loadTestConfig(), metrics: createApiMetrics() } as unknown as Deps;
const app = createApp(deps);
const ops = listOperations(await loadOpenApi((r) => app.handle(r)));

const world: FuzzWorld = {
  actor: { id: "1001", token: "a.b.c", postIds: ["2001", "2002"], refreshTokens: [`rt_${"A".repeat(43)}`] },
  victim: {
    id: "1002",
    token: "victim.token.x",
    postIds: ["3001"],
    refreshToken: `rt_${"V".repeat(43)}`,
    uploadKey: "uploads/1002/abc.png",
    rows: { avatar_key: null, posts: [], likes: [], follows: [], live_refresh_tokens: 1 },
  },
  bystander: { id: "1003", token: "c.c.c", postIds: ["4001"] },
  missingPostId: "9223372036854775807",
  missingUserId: "4611686018427387904",
  cursors: { feed: ["ZmVlZC4xLjE"], userPosts: ["dXNlcl9wb3N0cy4xLjE"] },
  badTokens: { expired: "x.y.z", garbage: "nope" },
  images: {
    png: { bytes: Buffer.from("\x89PNG\r\n\x1a\n").toString("base64"), type: "image/png", filename: "a.png" },
    jpeg: {
      bytes: Buffer.from([0xff, 0xd8, 0xff]).toString("base64"),
      type: "image/jpeg",
      filename: "a.jpg",
    },
    webp: { bytes: Buffer.from("RIFF").toString("base64"), type: "image/webp", filename: "a.webp" },
  },
  loadTestSecret: undefined,
  logins: [{ cookie: "feed_login=abc", state: "s".repeat(43) }],
};

describe("the document", () => {
  test("has every route, each body with its schema", () => {
    expect(ops.length).toBeGreaterThanOrEqual(21); // /metrics is on its own port, not in the document
    expect(findDocumentDefects(ops)).toEqual([]);
  });

  test("a defect is reported: a body without a schema, an undeclared path parameter", () => {
    const broken: Operation = {
      key: "POST /x/{id}",
      method: "POST",
      path: "/x/{id}",
      parameters: [],
      body: {},
      responses: {},
      secured: false,
    };
    expect(findDocumentDefects([broken])).toHaveLength(2);
  });
});

describe("generated requests", () => {
  const sample = fc.sample(generateRequests(ops, world), { numRuns: 3000, seed: 7 });

  test("reach every operation and can all be sent", () => {
    const reached = new Set(sample.map((r) => r.op));
    for (const op of ops) expect(reached).toContain(op.key);
    for (const r of sample) expect(() => toRequest(r)).not.toThrow();
  });

  test("never ask A to like the sentinel post or follow the sentinel user", () => {
    for (const r of sample) {
      if (r.op !== "POST /likes" && r.op !== "POST /follows") continue;
      const text = r.body?.kind === "text" ? r.body.text : JSON.stringify(r.body);
      expect(text).not.toContain(world.bystander.postIds[0]!);
      expect(text).not.toContain(`"${world.bystander.id}"`);
    }
  });

  test("mix valid requests with every kind of mutation", () => {
    const tags = new Set(sample.flatMap((r) => r.tags));
    for (const t of [
      "body:valid",
      "body:wrong-type",
      "body:missing-required",
      "body:extra-field",
      "body:deep",
      "body:odd-unicode",
      "body:raw-number",
      "body:malformed",
      "body:bad-utf8",
      "body:form",
      "body:multipart-garbage",
      "ctype:odd",
      "cursor:bogus",
      "cursor:valid",
      "id:bogus",
      "idem:odd",
      "auth:none",
      "auth:expired",
      "auth:malformed",
      "bola:must-refuse",
      "concurrent",
    ])
      expect(tags).toContain(t);
  });

  test("are matched back to the operation they reach", () => {
    expect(matchOperation(ops, "GET", "/posts/popular")?.key).toBe("GET /posts/popular");
    expect(matchOperation(ops, "GET", "/posts/123")?.key).toBe("GET /posts/{id}");
    expect(matchOperation(ops, "GET", "/feed/")?.key).toBe("GET /feed");
    expect(matchOperation(ops, "PATCH", "/posts/1")).toBeUndefined();
    expect(matchOperation(ops, "GET", "/posts/1/2")).toBeUndefined();
  });
});

describe("schema values", () => {
  test("values generated from each request schema satisfy it", () => {
    for (const op of ops) {
      const schema = op.body?.["application/json"];
      if (!schema) continue;
      fc.assert(
        fc.property(generateValue(schema), (v) => findViolation(v, schema) === null),
        { numRuns: 200, seed: 1 },
      );
    }
  });

  test("a violation names where and why", () => {
    const schema = {
      type: "object",
      required: ["id"],
      additionalProperties: false,
      properties: {
        id: { type: "string", pattern: "^[1-9][0-9]*$" },
        n: {
          anyOf: [
            { type: "string", format: "integer" },
            { type: "integer", minimum: 1 },
          ],
        },
        at: { type: "string", format: "date-time" },
        tags: { type: "array", items: { type: "string" } },
        image: { nullable: true, type: ["object", "null"] },
      },
    };
    expect(
      findViolation({ id: "1", n: 3, at: "2026-01-01T00:00:00Z", tags: ["a"], image: null }, schema),
    ).toBeNull();
    expect(findViolation({}, schema)).toMatch(/"id" is missing/);
    expect(findViolation({ id: "0" }, schema)).toMatch(/does not match/);
    expect(findViolation({ id: "1", x: 1 }, schema)).toMatch(/unexpected "x"/);
    expect(findViolation({ id: "1", n: 0 }, schema)).toMatch(/\$\.n/);
    expect(findViolation({ id: "1", tags: [1] }, schema)).toMatch(/\$\.tags\[0\]: expected string/);
    expect(findViolation({ id: "1", at: "yesterday" }, schema)).toMatch(/not a date-time/);
    expect(findViolation([], schema)).toMatch(/expected object, got array/);
  });
});
