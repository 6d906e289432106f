import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { countClientConnections, createSql } from "./client.ts";
import { openTestDb, type TestDb } from "./testing.ts";

// The api's pools carry a statement_timeout: a stuck query fails with query_canceled (57014)
// instead of holding a request and a connection for as long as it takes.

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(async () => {
  await db.close();
});

describe("statement_timeout", () => {
  test("a pool with statementTimeoutMs cancels a statement that runs past it", async () => {
    const sql = createSql({ url: db.config.DATABASE_URL, max: 1, statementTimeoutMs: 200 });
    try {
      const [row] = await sql<{ statement_timeout: string }[]>`SHOW statement_timeout`;
      expect(row!.statement_timeout).toBe("200ms");
      const started = performance.now();
      const err = await sql`SELECT pg_sleep(5)`.then(
        () => null,
        (e: { code?: string }) => e,
      );
      expect(err?.code).toBe("57014");
      expect(performance.now() - started).toBeLessThan(4000);
      // The connection is still good for the next statement.
      expect((await sql`SELECT 1 AS one`)[0]!.one).toBe(1);
    } finally {
      await sql.end({ timeout: 1 });
    }
  });

  test("with generic plans as well, and none at all when unset", async () => {
    const both = createSql({
      url: db.config.DATABASE_URL,
      max: 1,
      statementTimeoutMs: 1500,
      genericPlans: true,
    });
    const plain = createSql({ url: db.config.DATABASE_URL, max: 1 });
    try {
      const [b] = await both<{ t: string; p: string }[]>`
        SELECT current_setting('statement_timeout') AS t, current_setting('plan_cache_mode') AS p`;
      expect(b).toEqual({ t: "1500ms", p: "force_generic_plan" });
      const [p] = await plain<{ t: string }[]>`SELECT current_setting('statement_timeout') AS t`;
      expect(p!.t).toBe("0");
    } finally {
      await Promise.all([both.end({ timeout: 1 }), plain.end({ timeout: 1 })]);
    }
  });
});

describe("countClientConnections", () => {
  test("counts every pool's open connections (the soak's and the budget's measure)", async () => {
    const before = await countClientConnections(db.sql);
    expect(before).toBeGreaterThanOrEqual(1); // this very query's connection
    const extra = createSql({ url: db.config.DATABASE_URL, max: 2 });
    try {
      await Promise.all([extra`SELECT pg_sleep(0.05)`, extra`SELECT pg_sleep(0.05)`]);
      expect(await countClientConnections(db.sql)).toBeGreaterThanOrEqual(before + 2);
    } finally {
      await extra.end({ timeout: 1 });
    }
  });
});
