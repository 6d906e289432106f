import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { openTestDb, type TestDb, waitFor } from "../db/testing.ts";
import { testApp } from "./testing.ts";

// Request log lines: every server error and every slow request, a sample of the rest, while the
// metrics count all of them.

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(async () => {
  await db.close();
});

const requestLines = (lines: Record<string, unknown>[]) => lines.filter((l) => l.msg === "request");

describe("request log", () => {
  test("sampled: none of 20 fast answers at rate 0, every one at rate 1, and all counted", async () => {
    for (const [rate, expected] of [
      ["0", 0],
      ["1", 20],
    ] as const) {
      const lines: Record<string, unknown>[] = [];
      const api = testApp(
        db,
        {},
        {
          config: { ...db.config, LOG_SAMPLE_RATE: Number(rate), LOG_SLOW_MS: 60_000 },
          log: (l) => lines.push(l),
        },
      );
      for (let i = 0; i < 20; i++) expect((await api.call("GET", "/health")).status).toBe(200);
      await waitFor(
        async () =>
          (await api.deps.metrics.registry.getSingleMetricAsString("http_request_duration_seconds")).includes(
            'http_request_duration_seconds_count{method="GET",route="/health",status="200"} 20',
          ),
        2000,
        "every request to be counted",
      );
      expect([rate, requestLines(lines).length]).toEqual([rate, expected]);
    }
  });

  test("slow requests and server errors are always logged", async () => {
    const lines: Record<string, unknown>[] = [];
    const api = testApp(
      db,
      {},
      { config: { ...db.config, LOG_SAMPLE_RATE: 0, LOG_SLOW_MS: 0 }, log: (l) => lines.push(l) },
    );
    await api.call("GET", "/health");
    await waitFor(() => requestLines(lines).length === 1, 2000, "the slow request's line");
    const broken = testApp(
      db,
      {},
      {
        config: { ...db.config, LOG_SAMPLE_RATE: 0, LOG_SLOW_MS: 60_000 },
        log: (l) => lines.push(l),
        // A pool that cannot run a statement: GET /users/{id} answers 500.
        sql: Object.assign(() => Promise.reject(new Error("boom")), db.sql) as unknown as TestDb["sql"],
      },
    );
    const u = await db.makeUser();
    const res = await broken.call("GET", `/users/${u.id}`, { token: u.token });
    expect(res.status).toBe(500);
    await waitFor(() => requestLines(lines).some((l) => l.status === 500), 2000, "the 500's line");
    expect(requestLines(lines).find((l) => l.status === 500)?.level).toBe("error");
  });
});
