import { describe, expect, test } from "bun:test";
import type { Operation } from "./openapi.ts";
import { type Answer, type BolaContext, checkProblem, judge } from "./oracle.ts";
import type { FuzzRequest } from "./request.ts";

// The oracle must be able to fail: each rule against an answer that breaks it.

const ctx: BolaContext = {
  actorId: "100",
  secretsOfOthers: ["rt_victims-secret"],
  sentinelPostId: "900",
  sentinelUserId: "901",
};

const request = (over: Partial<FuzzRequest> = {}): FuzzRequest => ({
  op: "GET /posts/{id}",
  method: "GET",
  url: "/posts/1",
  headers: [],
  body: null,
  copies: 1,
  tags: ["auth:actor"],
  ...over,
});

const answer = (status: number, body: unknown, headers: Record<string, string> = {}): Answer => ({
  status,
  headers: new Headers(headers),
  text: typeof body === "string" ? body : JSON.stringify(body),
});

const problem = (status: number, code: string, title: string, over: Record<string, unknown> = {}) =>
  answer(
    status,
    { type: `/problems/${code}`, title, status, detail: "what went wrong", code, ...over },
    {
      "content-type": "application/problem+json",
      ...(status === 401 ? { "www-authenticate": "Bearer" } : {}),
    },
  );

const post = {
  type: "object",
  required: ["id", "liked_by_me"],
  properties: { id: { type: "string", pattern: "^[1-9][0-9]*$" }, liked_by_me: { type: "boolean" } },
};
const op: Operation = {
  key: "GET /posts/{id}",
  method: "GET",
  path: "/posts/{id}",
  parameters: [],
  body: null,
  responses: { "200": { "application/json": post }, "404": { "application/json": {} } },
  secured: true,
};

describe("problems", () => {
  test("a well-formed problem passes", () => {
    expect(checkProblem(problem(404, "post_not_found", "Post not found"))).toEqual([]);
    expect(judge(request(), problem(400, "validation_failed", "Request validation failed"), op, ctx)).toEqual(
      [],
    );
  });

  test("every broken part is named", () => {
    const cases: [Answer, RegExp][] = [
      [answer(404, { a: 1 }, { "content-type": "application/json" }), /not application\/problem\+json/],
      [answer(400, "oops", { "content-type": "application/problem+json" }), /not JSON/],
      [problem(400, "validation_failed", "Request validation failed", { status: 422 }), /≠ HTTP status 400/],
      [problem(400, "validation_failed", "Request validation failed", { detail: " " }), /without a detail/],
      [problem(400, "validation_failed", "", {}), /without a title/],
      [problem(400, "made_up", "Made up"), /not in the catalogue/],
      [problem(404, "validation_failed", "Request validation failed"), /is a 400, answered 404/],
      [
        problem(400, "validation_failed", "Request validation failed", {
          detail: "boom\n    at handle (x.ts:1:2)",
        }),
        /leaks internals/,
      ],
      [
        problem(400, "validation_failed", "Request validation failed", { errors: [{ path: 1 }] }),
        /errors are not/,
      ],
      [
        answer(
          401,
          {
            type: "/problems/unauthorized",
            title: "Authentication required",
            status: 401,
            detail: "no",
            code: "unauthorized",
          },
          { "content-type": "application/problem+json" },
        ),
        /without WWW-Authenticate/,
      ],
    ];
    for (const [a, why] of cases) expect(checkProblem(a).join("; ")).toMatch(why);
  });

  test("HEAD answers are judged by their headers (HTTP drops the body)", () => {
    const head = answer(404, "", { "content-type": "application/problem+json" });
    expect(checkProblem(head, true)).toEqual([]);
    expect(checkProblem(answer(404, ""), true)).toHaveLength(1);
  });

  test("any 5xx is a violation, whatever its body", () => {
    expect(judge(request(), problem(500, "internal", "Internal server error"), op, ctx)).toEqual([
      "500: a server error for a client's request",
    ]);
    expect(judge(request(), problem(503, "not_ready", "Service not ready"), op, ctx)).toHaveLength(1);
  });
});

describe("successes", () => {
  test("a 2xx must be documented and match its schema", () => {
    const ok = answer(200, { id: "1", liked_by_me: false }, { "content-type": "application/json" });
    expect(judge(request(), ok, op, ctx)).toEqual([]);
    expect(judge(request(), answer(201, {}, { "content-type": "application/json" }), op, ctx).join()).toMatch(
      /not a documented response/,
    );
    expect(
      judge(request(), answer(200, { id: "x" }, { "content-type": "application/json" }), op, ctx).join(),
    ).toMatch(/does not match/);
    expect(judge(request(), answer(200, "hi", { "content-type": "text/plain" }), op, ctx).join()).toMatch(
      /declared as JSON/,
    );
    expect(judge(request(), ok, undefined, ctx).join()).toMatch(/no operation of the document matches/);
  });
});

describe("another user's resources", () => {
  const json = { "content-type": "application/json" };
  test("a must-refuse request answered 2xx, and a hidden one answered 403", () => {
    const refused = request({ tags: ["auth:actor", "bola:must-refuse", "bola:hidden"] });
    expect(judge(refused, answer(200, { id: "1", liked_by_me: false }, json), op, ctx).join()).toMatch(
      /changed or handed out/,
    );
    expect(judge(refused, problem(403, "forbidden", "Forbidden"), op, ctx).join()).toMatch(/must be a 404/);
    expect(judge(refused, problem(404, "post_not_found", "Post not found"), op, ctx)).toEqual([]);
    // A refusal decided from the request alone may be a 403.
    const syntactic = request({ tags: ["auth:actor", "bola:must-refuse"] });
    expect(judge(syntactic, problem(403, "forbidden", "Forbidden"), op, ctx)).toEqual([]);
  });

  test("the sentinels are never the actor's, and /me is the actor", () => {
    const sentinel = answer(200, { id: "900", liked_by_me: true }, json);
    expect(judge(request(), sentinel, op, ctx).join()).toMatch(/liked_by_me is true/);
    const me: Operation = { ...op, key: "GET /me", path: "/me", responses: { "200": {} } };
    expect(
      judge(request({ op: "GET /me", url: "/me" }), answer(200, { id: "101" }, json), me, ctx).join(),
    ).toMatch(/someone else's profile/);
    const follows = answer(200, { items: [{ id: "901", followed_by_me: true }] }, json);
    expect(judge(request(), follows, { ...op, responses: { "200": {} } }, ctx).join()).toMatch(
      /followed_by_me/,
    );
  });

  test("another user's secret in any answer", () => {
    const leak = answer(200, { id: "1", liked_by_me: false, note: "rt_victims-secret" }, json);
    expect(judge(request(), leak, op, ctx).join()).toMatch(/another user's secret/);
  });
});
