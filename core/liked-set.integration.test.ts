import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { openTestDb, type TestDb } from "../db/testing.ts";
import {
  beginLikedSetBuild,
  finishLikedSetBuild,
  likedSetQuery,
  parseLikedSet,
  readCompleteLikedSet,
  writeLikedSet,
} from "./liked-set.ts";
import { runCommands } from "./redis.ts";
import { keys, LIKED_COMPLETE, LIKED_OVER_CAP } from "./redis-keys.ts";

// The liked set's states and their transitions against real Redis: builds, the writers of the
// like/unlike commands and the projector, and the cap (core/liked-set.ts has the argument).

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

const viewer = "42";
const k = keys.likedPosts(viewer);
const CAP = 5;
const TTL = 600;
const add = (post: string) => writeLikedSet(db.redis, viewer, post, true, CAP, TTL);
const remove = (post: string) => writeLikedSet(db.redis, viewer, post, false, CAP, TTL);
async function state(posts: string[]) {
  const [reply] = await runCommands(db.redis, [likedSetQuery(viewer, posts)]);
  return parseLikedSet(reply, posts);
}

describe("building a liked set", () => {
  test("a finished build is trusted: its likes are in it, anything else is not liked", async () => {
    const token = await beginLikedSetBuild(db.redis, viewer);
    expect(token).not.toBeNull();
    expect(await finishLikedSetBuild(db.redis, viewer, token!, ["101", "102"], CAP, TTL)).toBe("complete");
    const s = await state(["101", "102", "103"]);
    expect(s.kind).toBe("complete");
    expect(s.kind === "complete" && [...s.liked].sort()).toEqual(["101", "102"]);
    expect(await db.redis.ttl(k)).toBeGreaterThan(TTL - 10);
  });

  test("readCompleteLikedSet: the likes of a complete set, nothing for a build or the cap marker", async () => {
    expect(await readCompleteLikedSet(db.redis, viewer)).toBeNull();
    const token = await beginLikedSetBuild(db.redis, viewer);
    expect(await readCompleteLikedSet(db.redis, viewer)).toBeNull();
    await finishLikedSetBuild(db.redis, viewer, token!, ["101", "102"], CAP, TTL);
    expect(await readCompleteLikedSet(db.redis, viewer)).toEqual(new Set(["101", "102"]));
    await db.redis.del(k);
    await db.redis.sadd(k, LIKED_OVER_CAP);
    expect(await readCompleteLikedSet(db.redis, viewer)).toBeNull();
  });

  test("a viewer with no likes gets a complete, empty set (kept alive by its marker)", async () => {
    const token = await beginLikedSetBuild(db.redis, viewer);
    expect(await finishLikedSetBuild(db.redis, viewer, token!, [], CAP, TTL)).toBe("complete");
    expect(await db.redis.smembers(k)).toEqual([LIKED_COMPLETE]);
    expect((await state(["101"])).kind).toBe("complete");
  });

  test("only one reader builds, and nobody trusts the set while it is built", async () => {
    const token = await beginLikedSetBuild(db.redis, viewer);
    expect(token).not.toBeNull();
    expect(await beginLikedSetBuild(db.redis, viewer)).toBeNull();
    expect((await state(["101"])).kind).toBe("missing");
    expect(await db.redis.ttl(k)).toBeLessThanOrEqual(30);
  });

  test("a like written during the build survives it (the snapshot predates it)", async () => {
    const token = await beginLikedSetBuild(db.redis, viewer);
    expect(await add("109")).toBe("applied"); // the like command, meanwhile
    await finishLikedSetBuild(db.redis, viewer, token!, ["101"], CAP, TTL);
    expect((await db.redis.smembers(k)).sort()).toEqual(["101", "109", LIKED_COMPLETE].sort());
  });

  test("an unlike during the build aborts it: the snapshot's copy of that like never lands", async () => {
    const token = await beginLikedSetBuild(db.redis, viewer);
    expect(await remove("101")).toBe("aborted");
    expect(await db.redis.exists(k)).toBe(0);
    expect(await finishLikedSetBuild(db.redis, viewer, token!, ["101", "102"], CAP, TTL)).toBe("abandoned");
    expect(await db.redis.exists(k)).toBe(0);
  });

  test("a stale build cannot finish into a newer reader's build (tokens are not reused)", async () => {
    const old = await beginLikedSetBuild(db.redis, viewer);
    await remove("101"); // aborts the first build
    const fresh = await beginLikedSetBuild(db.redis, viewer);
    expect(fresh).not.toBeNull();
    expect(fresh).not.toBe(old);
    expect(await finishLikedSetBuild(db.redis, viewer, old!, ["101", "102"], CAP, TTL)).toBe("abandoned");
    expect((await state(["101"])).kind).toBe("missing");
    expect(await finishLikedSetBuild(db.redis, viewer, fresh!, ["102"], CAP, TTL)).toBe("complete");
    expect((await db.redis.smembers(k)).sort()).toEqual(["102", LIKED_COMPLETE].sort());
  });

  test("a build whose set was flushed or expired meanwhile writes nothing", async () => {
    const token = await beginLikedSetBuild(db.redis, viewer);
    await db.flushRedis();
    expect(await finishLikedSetBuild(db.redis, viewer, token!, ["101"], CAP, TTL)).toBe("abandoned");
    expect(await db.redis.exists(k)).toBe(0);
  });

  test("a set stays an intset through its build (8 bytes a like: markers and tokens are integers)", async () => {
    const token = await beginLikedSetBuild(db.redis, viewer);
    expect(token).toMatch(/^-[0-9]+$/);
    expect(await db.redis.object("ENCODING", k)).toBe("intset");
    await add("7000000000000000009");
    await finishLikedSetBuild(db.redis, viewer, token!, ["7000000000000000001"], CAP, TTL);
    expect(await db.redis.object("ENCODING", k)).toBe("intset");
  });

  test("thousands of likes go in (the script adds them in chunks)", async () => {
    const ids = Array.from({ length: 2500 }, (_, i) => String(10_000 + i));
    const token = await beginLikedSetBuild(db.redis, viewer);
    expect(await finishLikedSetBuild(db.redis, viewer, token!, ids, 5000, TTL)).toBe("complete");
    expect(await db.redis.scard(k)).toBe(2501);
  });
});

describe("keeping a liked set current", () => {
  test("writers never create a set: absent stays absent", async () => {
    expect(await add("101")).toBe("none");
    expect(await remove("101")).toBe("none");
    expect(await db.redis.exists(k)).toBe(0);
  });

  test("likes and unlikes move a complete set; repeating one changes nothing", async () => {
    const token = await beginLikedSetBuild(db.redis, viewer);
    await finishLikedSetBuild(db.redis, viewer, token!, ["101"], CAP, TTL);
    expect(await add("102")).toBe("applied");
    expect(await add("102")).toBe("applied");
    expect(await remove("101")).toBe("applied");
    expect(await remove("101")).toBe("applied");
    expect((await db.redis.smembers(k)).sort()).toEqual(["102", LIKED_COMPLETE].sort());
    expect(await db.redis.ttl(k)).toBeGreaterThan(TTL - 10);
  });
});

describe("the cap", () => {
  test("a viewer with more likes than the cap is marked over it, and nobody builds", async () => {
    const token = await beginLikedSetBuild(db.redis, viewer);
    const ids = ["1", "2", "3", "4", "5", "6"].map((n) => `10${n}`);
    expect(await finishLikedSetBuild(db.redis, viewer, token!, ids, CAP, TTL)).toBe("over-cap");
    expect(await db.redis.smembers(k)).toEqual([LIKED_OVER_CAP]);
    expect((await state(["101"])).kind).toBe("over-cap");
    expect(await beginLikedSetBuild(db.redis, viewer)).toBeNull();
    expect(await db.redis.ttl(k)).toBeGreaterThan(TTL - 10);
    // Writers leave it alone: it holds nothing to keep current.
    expect(await add("201")).toBe("none");
    expect(await remove("101")).toBe("none");
    expect(await db.redis.smembers(k)).toEqual([LIKED_OVER_CAP]);
  });

  test("a complete set that grows past the cap becomes the over-cap marker, keeping its TTL", async () => {
    const token = await beginLikedSetBuild(db.redis, viewer);
    await finishLikedSetBuild(db.redis, viewer, token!, ["101", "102", "103", "104", "105"], CAP, TTL);
    expect((await state(["101"])).kind).toBe("complete");
    expect(await add("106")).toBe("none");
    expect(await db.redis.smembers(k)).toEqual([LIKED_OVER_CAP]);
    expect(await db.redis.ttl(k)).toBeGreaterThan(TTL - 10);
  });

  test("likes added during a build count toward the cap", async () => {
    const token = await beginLikedSetBuild(db.redis, viewer);
    await add("106");
    expect(
      await finishLikedSetBuild(db.redis, viewer, token!, ["101", "102", "103", "104", "105"], CAP, TTL),
    ).toBe("over-cap");
    expect((await state(["101"])).kind).toBe("over-cap");
  });
});
