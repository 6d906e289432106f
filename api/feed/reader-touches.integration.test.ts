import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { keys } from "../../core/redis-keys.ts";
import { createSql } from "../../db/client.ts";
import { freePort, openTestDb, type TestDb } from "../../db/testing.ts";
import { testApp } from "../testing.ts";
import { ReaderTouches } from "./reader-touches.ts";

// The first read of a reader's day is recorded in feed_readers (fan-out skips readers away
// longer than FEED_ACTIVE_DAYS) by a batched writer, off the read's path; the seen-today mark
// follows the commit, so a touch that was never written is made again by the next read.

let db: TestDb;
beforeAll(async () => {
  // Flushed by the tests themselves, never by the timer.
  db = await openTestDb({ READER_TOUCH_FLUSH_MS: "10000" });
  await db.reset();
});
afterAll(async () => {
  await db.close();
});

const lastRead = async (ids: string[]) =>
  (
    await db.sql<{ user_id: string }[]>`
    SELECT user_id::text FROM feed_readers WHERE user_id = ANY(${ids}::bigint[])`
  ).map((r) => r.user_id);

describe("reader touches", () => {
  test("first reads of the day are written together, in one transaction, and their seen marks after", async () => {
    const api = testApp(db);
    const readers = await Promise.all([1, 2, 3, 4, 5].map(() => db.makeUser()));
    const ids = readers.map((r) => r.id);
    db.resetCount();
    for (const r of readers) expect((await api.call("GET", "/feed", { token: r.token })).status).toBe(200);
    // The reads wrote nothing to feed_readers: no INSERT on their path.
    expect(await lastRead(ids)).toEqual([]);
    expect(api.deps.touches?.has(ids[0]!)).toBe(true);
    // Reads again the same day: nothing queued twice, and no statement for the touch.
    db.resetCount();
    await api.call("GET", "/feed", { token: readers[0]!.token });
    expect(db.queryCount()).toBeLessThanOrEqual(1); // at most the page's own sources statement
    db.resetCount();
    await api.deps.touches!.flush();
    // One transaction for them all: BEGIN, the rows locked, the write, COMMIT (db/feed.ts).
    expect(db.queryCount()).toBe(4);
    expect((await lastRead(ids)).sort()).toEqual([...ids].sort());
    for (const id of ids) expect(await db.redis.exists(keys.readerSeen(id))).toBe(1);
    expect(api.deps.touches?.has(ids[0]!)).toBe(false);
  });

  test("a batch that fails is kept and written later; no seen mark before it is", async () => {
    const reader = await db.makeUser();
    // A pool on a port nobody listens on: the write fails as with PostgreSQL down.
    const dead = createSql({ url: `postgres://feed:feed@127.0.0.1:${await freePort()}/x`, max: 1 });
    const logged: Record<string, unknown>[] = [];
    const deps = {
      sql: dead,
      redis: db.redis,
      config: db.config,
      log: (l: Record<string, unknown>) => logged.push(l),
    };
    const touches = new ReaderTouches(deps);
    touches.add(reader.id);
    await touches.flush();
    expect(logged.map((l) => l.msg)).toEqual(["reader touches not written; retrying"]);
    expect(touches.has(reader.id)).toBe(true);
    expect(await db.redis.exists(keys.readerSeen(reader.id))).toBe(0);
    // PostgreSQL is back: the kept touch is written by the next flush.
    deps.sql = db.sql;
    await touches.flush();
    expect(await lastRead([reader.id])).toEqual([reader.id]);
    expect(await db.redis.exists(keys.readerSeen(reader.id))).toBe(1);
    await dead.end({ timeout: 1 });
  });

  test("a touch lost with its process is made again by the reader's next read", async () => {
    const reader = await db.makeUser();
    const crashed = testApp(db);
    await crashed.call("GET", "/feed", { token: reader.token });
    expect(crashed.deps.touches?.has(reader.id)).toBe(true);
    // The process dies with the touch unwritten: no row and no mark, so another process (or the
    // restarted one) counts the next read as the first of the day.
    const other = testApp(db);
    await other.call("GET", "/feed", { token: reader.token });
    await other.deps.touches!.flush();
    expect(await lastRead([reader.id])).toEqual([reader.id]);
  });

  test("the timer writes what waits; a full batch goes at once", async () => {
    const reader = await db.makeUser();
    const quick = new ReaderTouches({ ...db, config: { ...db.config, READER_TOUCH_FLUSH_MS: 20 } });
    quick.add(reader.id);
    for (let i = 0; i < 100 && (await lastRead([reader.id])).length === 0; i++) await Bun.sleep(20);
    expect(await lastRead([reader.id])).toEqual([reader.id]);
    // A thousand readers (ids no user has: feed_readers takes any) without waiting for the timer.
    const slow = new ReaderTouches(db);
    const many = Array.from({ length: 1000 }, (_, i) => String(9_000_000_000_000 + i));
    for (const id of many) slow.add(id);
    await slow.flush(); // waits for the write already started by the thousandth add
    expect((await lastRead(many)).length).toBe(1000);
  });

  test("without a batched writer the read writes its touch itself", async () => {
    const reader = await db.makeUser();
    const api = testApp(db, {}, { touches: undefined });
    await api.call("GET", "/feed", { token: reader.token });
    expect(await lastRead([reader.id])).toEqual([reader.id]);
  });
});
