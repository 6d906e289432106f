import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { formatSummary, isClean, runFuzz } from "./fuzz/run-fuzz.ts";
import { type FuzzTarget, openFuzzTarget } from "./fuzz/target.ts";

// The short fuzz run of `./dev test` (the long one is `./dev fuzz`, 10 000 requests): every
// operation of the OpenAPI document, real PostgreSQL, Redis and S3, a fixed seed. Then the
// oracle is shown to fail on a deliberately broken answer, so that a clean run means something.

let t: FuzzTarget;
beforeAll(async () => {
  t = await openFuzzTarget();
}, 60_000);
afterAll(async () => {
  await t.close();
});

const SEED = 20_261_202;

test("1 200 requests for every route: no 5xx, every 4xx a problem, nothing of another user's", async () => {
  const s = await runFuzz(t, { requests: 1200, seed: SEED });
  if (!isClean(s)) console.error(formatSummary(s));
  expect(s.failure).toBeNull();
  expect(s.serverErrors).toBe(0);
  expect(s.invalidProblems).toBe(0);
  expect(s.auditViolations).toEqual([]);
  expect(isClean(s)).toBe(true);
  expect(s.runs).toBeGreaterThanOrEqual(1200);
  // Every operation was sent something, and some of it succeeded.
  expect(Object.keys(s.perRoute).length).toBe(s.operations + 1); // + the unrouted requests
  expect((s.statuses["200"] ?? 0) + (s.statuses["201"] ?? 0)).toBeGreaterThan(200);
}, 60_000);

describe("the oracle fails when the api does", () => {
  const withBrokenHandle = async (
    broken: (r: Request, real: (r: Request) => Promise<Response>) => Promise<Response> | null,
    fn: () => Promise<void>,
  ) => {
    const real = t.handle;
    t.handle = (r) => broken(r, real) ?? real(r);
    try {
      await fn();
    } finally {
      t.handle = real;
    }
  };

  test("a 500 past a limit is reported and shrunk to the boundary", async () => {
    await withBrokenHandle(
      (r) => {
        const u = new URL(r.url);
        if (u.pathname !== "/posts/popular" || !(Number(u.searchParams.get("limit")) > 50)) return null;
        return Promise.resolve(new Response("{}", { status: 500 }));
      },
      async () => {
        const s = await runFuzz(t, { requests: 2000, seed: 12 });
        expect(s.serverErrors).toBe(1);
        expect(s.failure?.request.op).toBe("GET /posts/popular");
        // Shrunk to the limit alone, every other parameter dropped. Which failing value it ends
        // on depends on the arm that failed first (51 from the integers, or a bogus constant
        // such as 1e309); which arm that is varies with the run's world, so both are accepted.
        const url = new URL(`http://x${s.failure?.request.url}`);
        expect([...url.searchParams.keys()]).toEqual(["limit"]);
        expect(Number(url.searchParams.get("limit"))).toBeGreaterThan(50);
        expect(s.failure?.violations).toEqual(["500: a server error for a client's request"]);
        expect(formatSummary(s)).toContain("replay: ./dev fuzz --requests 2000 --seed 12 --path ");
      },
    );
  }, 60_000);

  test("a 404 that is not problem+json is reported", async () => {
    await withBrokenHandle(
      async (r, real) => {
        const res = await real(r);
        if (res.status !== 404) return res;
        return new Response("not here", { status: 404, headers: { "content-type": "text/plain" } });
      },
      async () => {
        const s = await runFuzz(t, { requests: 500, seed: 3 });
        expect(s.invalidProblems).toBe(1);
        expect(s.failure?.status).toBe(404);
        expect(s.failure?.violations.join()).toContain("not application/problem+json");
      },
    );
  }, 60_000);
});
