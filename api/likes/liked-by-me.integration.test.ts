import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { keys, LIKED_COMPLETE, LIKED_OVER_CAP } from "../../core/redis-keys.ts";
import { gate, openTestDb, type TestDb, waitFor } from "../../db/testing.ts";
import { testApp } from "../testing.ts";

// liked_by_me from the viewer's liked set (core/liked-set.ts): exact through likes and unlikes,
// rebuilt from PostgreSQL when the set is gone, safe against an unlike racing a build, and left
// to PostgreSQL past the cap. The projector does not run here: every change in the set is the
// commands' own (its handlers are tested in projector/handlers).

let db: TestDb;
let api: ReturnType<typeof testApp>;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(async () => {
  await db.close();
});
beforeEach(async () => {
  await db.reset();
  api = testApp(db);
});

async function setUp(n = 3) {
  const viewer = await db.makeUser();
  const author = await db.makeUser();
  const posts: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await api.call("POST", "/posts", {
      token: author.token,
      json: { text: `post ${i}` },
      headers: { "idempotency-key": crypto.randomUUID() },
    });
    expect(r.status).toBe(201);
    posts.push(r.body.id);
  }
  return { viewer, author, posts, set: keys.likedPosts(viewer.id) };
}

/** liked_by_me of each post as the viewer reads it, one GET /posts/{id} each, in order. */
async function likedByMe(app: ReturnType<typeof testApp>, token: string, posts: readonly string[]) {
  const out: boolean[] = [];
  for (const id of posts) {
    const r = await app.call("GET", `/posts/${id}`, { token });
    expect(r.status).toBe(200);
    out.push(r.body.liked_by_me);
  }
  return out;
}

const like = (app: ReturnType<typeof testApp>, token: string, post: string) =>
  app.call("POST", "/likes", { token, json: { post_id: post } });
const unlike = (app: ReturnType<typeof testApp>, token: string, post: string) =>
  app.call("DELETE", `/likes/${post}`, { token });

describe("liked_by_me from the liked set", () => {
  test("stays exact through like, unlike and like again, with no PostgreSQL statement per read", async () => {
    const { viewer, posts, set } = await setUp();
    expect(await likedByMe(api, viewer.token, posts)).toEqual([false, false, false]);
    expect(await db.redis.smembers(set)).toEqual([LIKED_COMPLETE]);

    const steps: [string, () => Promise<unknown>, boolean[]][] = [
      ["like", () => like(api, viewer.token, posts[1]!), [false, true, false]],
      ["unlike", () => unlike(api, viewer.token, posts[1]!), [false, false, false]],
      ["like again", () => like(api, viewer.token, posts[1]!), [false, true, false]],
      ["like another", () => like(api, viewer.token, posts[2]!), [false, true, true]],
      ["like twice (no change)", () => like(api, viewer.token, posts[2]!), [false, true, true]],
    ];
    for (const [what, step, want] of steps) {
      await step();
      db.resetCount();
      expect({ what, liked: await likedByMe(api, viewer.token, posts) }).toEqual({ what, liked: want });
      expect({ what, statements: db.queryCount() }).toEqual({ what, statements: 0 });
    }
    const rows = await db.sql`SELECT post_id::text FROM likes WHERE user_id = ${viewer.id}`;
    expect((await db.redis.smembers(set)).sort()).toEqual(
      [LIKED_COMPLETE, ...rows.map((r) => r.post_id)].sort(),
    );
  });

  test("a set deleted, expired or flushed is rebuilt from PostgreSQL with every like", async () => {
    const { viewer, posts, set } = await setUp();
    await like(api, viewer.token, posts[0]!);
    await like(api, viewer.token, posts[2]!);
    const want = [true, false, true];
    const ways: [string, () => Promise<unknown>][] = [
      ["deleted", () => db.redis.del(set)],
      [
        "expired",
        async () => {
          await db.redis.pexpire(set, 1);
          await waitFor(async () => (await db.redis.exists(set)) === 0, 2000, "the set to expire");
        },
      ],
      ["FLUSHALL", () => db.flushRedis()],
    ];
    for (const [what, lose] of ways) {
      expect(await likedByMe(api, viewer.token, posts)).toEqual(want);
      await lose();
      db.resetCount();
      // The first reads ask PostgreSQL (one builds the set; after FLUSHALL the posts miss too),
      // the next ones do not.
      expect({ what, liked: await likedByMe(api, viewer.token, posts) }).toEqual({ what, liked: want });
      expect(db.queryCount()).toBeGreaterThan(0);
      db.resetCount();
      expect({ what, liked: await likedByMe(api, viewer.token, posts) }).toEqual({ what, liked: want });
      expect({ what, statements: db.queryCount() }).toEqual({ what, statements: 0 });
      expect((await db.redis.smembers(set)).sort()).toEqual([LIKED_COMPLETE, posts[0]!, posts[2]!].sort());
      expect(await db.redis.ttl(set)).toBeGreaterThan(db.config.CACHE_TTL_SECONDS - 60);
    }
  });

  test("an unlike while the set is being built does not come back with the build's snapshot", async () => {
    const { viewer, posts, set } = await setUp(1);
    const post = posts[0]!;
    await like(api, viewer.token, post);
    await db.redis.del(set);
    // The reader builds the set: its PostgreSQL statement has read the like; it waits before
    // finishing while the viewer unlikes through another api instance.
    const snapshotRead = gate();
    const finish = gate();
    let held = false;
    const reader = testApp(db, {
      beforeLikedSetFinish: async () => {
        if (held) return;
        held = true;
        snapshotRead.open();
        await finish.wait;
      },
    });
    const reading = likedByMe(reader, viewer.token, [post]);
    await snapshotRead.wait;
    expect(await db.redis.exists(set)).toBe(1); // building
    expect((await unlike(api, viewer.token, post)).status).toBe(204);
    // The unlike met the build and ended it.
    expect(await db.redis.exists(set)).toBe(0);
    finish.open();
    // That read began before the unlike; either answer would be right for it.
    await reading;
    expect(await db.redis.exists(set)).toBe(0); // the build found itself aborted and wrote nothing
    expect(await likedByMe(api, viewer.token, [post])).toEqual([false]);
    expect(await db.redis.smembers(set)).toEqual([LIKED_COMPLETE]);
  });

  test("a like while the set is being built lands in it", async () => {
    const { viewer, posts, set } = await setUp(2);
    const snapshotRead = gate();
    const finish = gate();
    let held = false;
    const reader = testApp(db, {
      beforeLikedSetFinish: async () => {
        if (held) return;
        held = true;
        snapshotRead.open();
        await finish.wait;
      },
    });
    const reading = likedByMe(reader, viewer.token, [posts[0]!]);
    await snapshotRead.wait;
    expect((await like(api, viewer.token, posts[1]!)).status).toBe(201);
    finish.open();
    expect(await reading).toEqual([false]);
    expect((await db.redis.smembers(set)).sort()).toEqual([LIKED_COMPLETE, posts[1]!].sort());
    db.resetCount();
    expect(await likedByMe(api, viewer.token, posts)).toEqual([false, true]);
    expect(db.queryCount()).toBe(0);
  });

  test("a viewer with more likes than LIKES_CACHE_MAX is answered by PostgreSQL", async () => {
    const capped = testApp(db, {}, { config: { ...db.config, LIKES_CACHE_MAX: 2 } });
    const { viewer, posts, set } = await setUp(4);
    for (const p of posts.slice(0, 3)) await like(capped, viewer.token, p);
    expect(await likedByMe(capped, viewer.token, posts)).toEqual([true, true, true, false]);
    expect(await db.redis.smembers(set)).toEqual([LIKED_OVER_CAP]);
    // Every read asks PostgreSQL, and is exact through more changes; nobody rebuilds the set.
    await unlike(capped, viewer.token, posts[0]!);
    await like(capped, viewer.token, posts[3]!);
    db.resetCount();
    expect(await likedByMe(capped, viewer.token, posts)).toEqual([false, true, true, true]);
    expect(db.queryCount()).toBe(4);
    expect(await db.redis.smembers(set)).toEqual([LIKED_OVER_CAP]);
  });

  test("a viewer who likes past the cap while cached leaves the cache", async () => {
    const capped = testApp(db, {}, { config: { ...db.config, LIKES_CACHE_MAX: 2 } });
    const { viewer, posts, set } = await setUp(3);
    await like(capped, viewer.token, posts[0]!);
    expect(await likedByMe(capped, viewer.token, posts)).toEqual([true, false, false]);
    await like(capped, viewer.token, posts[1]!);
    expect(await db.redis.smembers(set)).toHaveLength(3); // complete: the marker and two likes
    await like(capped, viewer.token, posts[2]!);
    expect(await db.redis.smembers(set)).toEqual([LIKED_OVER_CAP]);
    expect(await likedByMe(capped, viewer.token, posts)).toEqual([true, true, true]);
  });

  test("a like whose write to the set fails drops the set rather than leave it wrong", async () => {
    const { viewer, posts, set } = await setUp(1);
    expect(await likedByMe(api, viewer.token, posts)).toEqual([false]);
    // Any Redis error on the write path will do: the key holds the wrong type now.
    await db.redis.set(set, "not a set", "EX", 60);
    expect((await like(api, viewer.token, posts[0]!)).status).toBe(201);
    await waitFor(async () => (await db.redis.exists(set)) === 0, 2000, "the set to be dropped");
    expect(await likedByMe(api, viewer.token, posts)).toEqual([true]);
    expect(await db.redis.smembers(set)).toEqual([LIKED_COMPLETE, posts[0]!].sort());
  });

  test("LIKES_CACHE_MAX=0 turns the set off: PostgreSQL answers, nothing is cached", async () => {
    const off = testApp(db, {}, { config: { ...db.config, LIKES_CACHE_MAX: 0 } });
    const { viewer, posts, set } = await setUp(2);
    await like(off, viewer.token, posts[0]!);
    expect(await likedByMe(off, viewer.token, posts)).toEqual([true, false]);
    expect(await db.redis.exists(set)).toBe(0);
  });
});
