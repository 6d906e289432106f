import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { openTestDb, type TestDb } from "../../db/testing.ts";
import * as seed from "./sql.ts";

// The seeder's SQL in-process against the test database (perf/seed.integration.test.ts runs
// the whole seeder as a child process).

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(async () => {
  await db.sql`DELETE FROM seed_runs`;
  await db.close();
});

describe("seeder SQL", () => {
  test("phases are recorded, updated and forgotten", async () => {
    await seed.forgetPhases(db.sql);
    await seed.markPhase(db.sql, "users", { users: 10 }, "started");
    await seed.markPhase(db.sql, "users", { users: 10 }, "done", 10, 0.5);
    const p = await seed.phases(db.sql);
    expect(p.get("users")).toMatchObject({ state: "done", rows: "10", seconds: 0.5, params: { users: 10 } });
    await seed.forgetPhases(db.sql);
    expect((await seed.phases(db.sql)).size).toBe(0);
  });

  test("COPY, range deletes and the post_stats cleanup by author", async () => {
    await db.reset();
    await seed.copyInto(
      db.sql,
      "users",
      ["id", "handle", "display_name"],
      ["1001\ts_1\tOne\n1002\ts_2\tTwo\n"],
    );
    await seed.copyInto(
      db.sql,
      "posts",
      ["shard", "id", "author_id", "text", "created_at"],
      ["0\t5001\t1001\thello\t2026-01-01T00:00:00Z\n0\t5002\t1002\tthere\t2026-01-01T00:00:01Z\n"],
    );
    await seed.copyInto(
      db.sql,
      "post_stats",
      ["shard", "post_id", "like_count", "post_created_at"],
      ["0\t5001\t0\t2026-01-01T00:00:00Z\n0\t5002\t0\t2026-01-01T00:00:01Z\n"],
    );
    expect(await seed.deleteSeededPostStats(db.sql, 1001n, 1001n)).toBe(1);
    expect(await seed.deleteRange(db.sql, "posts", "author_id", 1000n, 1001n)).toBe(1);
    expect(await seed.deleteRange(db.sql, "users", "id", 1000n, 1003n)).toBe(2);
    await seed.analyze(db.sql, ["users"]);
  });

  test("the raw COPY baseline measures a positive rate and leaves no table behind", async () => {
    const rate = await seed.rawCopyRate(db.sql, ["1\t2\n", "3\t4\n"], 100);
    expect(rate).toBeGreaterThan(0);
    const [t] = await db.sql`SELECT to_regclass('seed_copy_baseline') AS t`;
    expect(t!.t).toBeNull();
  });

  test("dropped keys and indexes come back exactly, valid, on every partition", async () => {
    const tables = ["follows", "likes"];
    const before = await seed.indexCount(db.sql, tables);
    expect(await seed.dropIndexes(db.sql, tables)).toBe(4);
    expect(await seed.indexCount(db.sql, tables)).toBe(0);
    const rebuilt: string[] = [];
    expect(await seed.restoreIndexes(db.sql, (name) => rebuilt.push(name))).toBe(4);
    expect(rebuilt.sort()).toEqual(["follows_followee_idx", "follows_pkey", "likes_pkey", "likes_post_idx"]);
    expect(await seed.indexCount(db.sql, tables)).toBe(before);
    expect(await seed.invalidIndexes(db.sql, tables)).toEqual([]);
  });
});
