import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { openTestDb, type TestDb } from "../db/testing.ts";
import { beginIdSetBuild, finishIdSetBuild, pushToHeads } from "./cache.ts";
import { HEAD_SENTINEL, isIdSetMarker, keys } from "./redis-keys.ts";

// The rebuild protocol of cached id sets against concurrent projector writes (real Redis).

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(async () => {
  await db.close();
});
beforeEach(async () => {
  await db.flushRedis();
});

const k = keys.feedHead("42");
const it = (n: number) => ({ id: String(1000 + n), at: n });

describe("rebuilding a cached id set", () => {
  test("a post pushed while the reader queries PostgreSQL survives the rebuild", async () => {
    const token = await beginIdSetBuild(db.redis, k);
    expect(token).not.toBeNull();
    await pushToHeads(db.redis, ["42"], it(9), 300); // the projector, meanwhile
    expect(await finishIdSetBuild(db.redis, k, token!, [it(1), it(2)], 300, 60)).toBe(true);
    const members = await db.redis.zrange(k, "0", "-1");
    expect(members.sort()).toEqual(["1001", "1002", "1009", HEAD_SENTINEL].sort());
    expect(await db.redis.ttl(k)).toBeGreaterThan(30);
  });

  test("a set dropped while the reader queries PostgreSQL stays dropped (no stale rows come back)", async () => {
    const token = await beginIdSetBuild(db.redis, k);
    await db.redis.del(k); // the unfollow handler, meanwhile
    expect(await finishIdSetBuild(db.redis, k, token!, [it(1)], 300, 60)).toBe(false);
    expect(await db.redis.exists(k)).toBe(0);
  });

  test("a dropped rebuild cannot finish into the rebuild another reader began since", async () => {
    const first = await beginIdSetBuild(db.redis, k);
    await db.redis.del(k); // the unfollow handler drops the head while the first reader queries
    const second = await beginIdSetBuild(db.redis, k); // a second read of the same viewer
    expect(second).not.toBeNull();
    expect(second).not.toBe(first);
    // The first reader's rows were read before the unfollow: they must not land.
    expect(await finishIdSetBuild(db.redis, k, first!, [it(7)], 300, 60)).toBe(false);
    expect(await db.redis.zscore(k, HEAD_SENTINEL)).toBeNull(); // still being built, not trusted
    expect(await finishIdSetBuild(db.redis, k, second!, [it(1)], 300, 60)).toBe(true);
    expect((await db.redis.zrange(k, "0", "-1")).sort()).toEqual(["1001", HEAD_SENTINEL].sort());
  });

  test("only one reader builds; the marker tells others not to trust the set yet", async () => {
    const token = await beginIdSetBuild(db.redis, k);
    expect(token).not.toBeNull();
    expect(await beginIdSetBuild(db.redis, k)).toBeNull();
    expect(await db.redis.zscore(k, token!)).toBe("inf");
    expect(isIdSetMarker(token!)).toBe(true);
    expect(await db.redis.zscore(k, HEAD_SENTINEL)).toBeNull();
  });

  test("a rebuilt set is trimmed to its size, keeping the newest", async () => {
    const token = await beginIdSetBuild(db.redis, k);
    await finishIdSetBuild(db.redis, k, token!, [it(1), it(2), it(3), it(4)], 2, 60);
    expect((await db.redis.zrange(k, "0", "-1")).sort()).toEqual(["1003", "1004", HEAD_SENTINEL].sort());
  });
});
