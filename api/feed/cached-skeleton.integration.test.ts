import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decodeCursor } from "../../core/cursor.ts";
import { openTestDb, type TestDb } from "../../db/testing.ts";
import { startTestProjector } from "../../projector/testing.ts";
import { testApp } from "../testing.ts";
import { cachedSkeleton } from "./cached-skeleton.ts";
import { feedSkeleton } from "./skeleton.ts";

// The pages the caches answer alone (cached-skeleton.ts: two plain round-trips, a third for
// a reader of pull authors) are the general path's pages, page by page to the end, with the same
// like counts and liked flags; and they decline whenever a cache is not complete.

let db: TestDb;
beforeAll(async () => {
  // Authors with more than 2 followers are pulled at read time.
  db = await openTestDb({ STREAM_PARTITIONS: "4", FANOUT_PULL_THRESHOLD: "2" });
  await db.reset();
});
afterAll(async () => {
  await db.close();
});

/** Posts as the token's user through the app; the new post's id. */
const postAs = (api: ReturnType<typeof testApp>) => async (token: string, text: string) =>
  (
    await api.call("POST", "/posts", {
      token,
      json: { text },
      headers: { "idempotency-key": crypto.randomUUID() },
    })
  ).body.id as string;

describe("pages from the caches alone", () => {
  test("equal the general path's, for push and pull readers, at every cursor", async () => {
    const api = testApp(db);
    const proj = await startTestProjector(db);
    const post = postAs(api);
    const star = await db.makeUser(); // pulled: three followers
    const friend = await db.makeUser(); // pushed
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => db.makeUser()));
    for (const r of [a!, b!, c!])
      await api.call("POST", "/follows", { token: r.token, json: { user_id: star.id } });
    await api.call("POST", "/follows", { token: a!.token, json: { user_id: friend.id } });
    await api.call("POST", "/follows", { token: b!.token, json: { user_id: friend.id } });
    for (let i = 0; i < 12; i++) {
      await post(star.token, `star ${i}`);
      await post(friend.token, `friend ${i}`);
    }
    await proj.settle();
    const liked = await post(friend.token, "liked");
    await proj.settle();
    await api.call("POST", "/likes", { token: a!.token, json: { post_id: liked } });
    await api.call("POST", "/likes", { token: b!.token, json: { post_id: liked } });
    await proj.settle();

    let pulled = 0;
    for (const reader of [a!, c!, friend]) {
      // Two reads warm every cache (head, pull list, author caches, counts, liked set).
      await api.call("GET", "/feed", { token: reader.token });
      await api.call("GET", "/feed", { token: reader.token });
      for (const limit of [1, 5, 7]) {
        let cursor: string | undefined;
        let pages = 0;
        do {
          const general = await feedSkeleton(api.deps, reader.id, limit, cursor, { fromCachesFirst: false });
          const fast = await cachedSkeleton(
            api.deps,
            reader.id,
            limit,
            cursor ? decodeCursor("feed", cursor) : null,
          );
          if (fast === null) break; // past what the caches hold: the general path answers
          expect([reader.id, limit, pages, fast.ids]).toEqual([reader.id, limit, pages, general.ids]);
          expect(fast.nextCursor).toBe(general.nextCursor);
          if (fast.ids.includes(liked)) expect(fast.known?.counts?.get(liked)).toBe(2);
          if (reader === a && fast.ids.includes(liked)) expect(fast.known?.liked?.has(liked)).toBe(true);
          if (reader !== friend) pulled++;
          cursor = general.nextCursor ?? undefined;
          pages++;
        } while (cursor);
        expect(pages).toBeGreaterThan(0);
      }
    }
    expect(pulled).toBeGreaterThan(0);
    await proj.stop();
  });

  test("pull authors' posts come from memory until they post again", async () => {
    const api = testApp(db);
    const proj = await startTestProjector(db);
    const post = postAs(api);
    const star = await db.makeUser(); // pulled: three followers
    const readers = await Promise.all([1, 2, 3].map(() => db.makeUser()));
    for (const r of readers)
      await api.call("POST", "/follows", { token: r.token, json: { user_id: star.id } });
    const first = await post(star.token, "first");
    await proj.settle();
    const reader = readers[0]!;
    const ids = async () =>
      ((await api.call("GET", "/feed", { token: reader.token })).body.items as { id: string }[]).map(
        (i) => i.id,
      );
    expect(await ids()).toEqual([first]);
    await api.deps.touches!.flush(); // the seen mark: the caches alone answer from here
    // The first read found the pull list in PostgreSQL; this one fills the star's cache.
    expect(await ids()).toEqual([first]);
    expect(await ids()).toEqual([first]);
    expect(api.deps.memory!.authorPosts.get(star.id)?.ids).toContain(first);
    // Redis's set changed behind memory's back (no message): memory still answers.
    await db.redis.zrem(`author:posts:{${star.id}}`, first);
    expect((await cachedSkeleton(api.deps, reader.id, 5, null))?.ids).toEqual([first]);
    await db.redis.del(`author:posts:{${star.id}}`); // rebuilt below from PostgreSQL
    // The star posts: the projector pushes it and drops every process's copy of the list.
    const second = await post(star.token, "second");
    await proj.settle();
    for (let i = 0; i < 50 && api.deps.memory!.authorPosts.has(star.id); i++) await Bun.sleep(20);
    expect(await ids()).toEqual([second, first]);
    expect(await ids()).toEqual([second, first]);
    await proj.stop();
  });

  test("decline when a cache is missing, and on the first read of the day", async () => {
    const api = testApp(db);
    const reader = await db.makeUser();
    await api.call("GET", "/feed", { token: reader.token });
    // The first read's touch waits in this process's batch (reader-touches.ts), with no seen
    // mark yet: the caches answer all the same.
    expect(await db.redis.exists(`feed:seen:{${reader.id}}`)).toBe(0);
    expect(await cachedSkeleton(api.deps, reader.id, 5, null)).not.toBeNull();
    await api.deps.touches!.flush();
    expect(await cachedSkeleton(api.deps, reader.id, 5, null)).not.toBeNull();
    // A page the caches answered counts as a feed cache hit, as on the general path.
    const hits = async () =>
      (await api.deps.metrics.feedCache.get()).values.find((v) => v.labels.result === "hit")?.value ?? 0;
    const before = await hits();
    await api.call("GET", "/feed", { token: reader.token });
    expect(await hits()).toBe(before + 1);
    await db.redis.del(`feed:seen:{${reader.id}}`);
    expect(await cachedSkeleton(api.deps, reader.id, 5, null)).toBeNull();
    await api.call("GET", "/feed", { token: reader.token });
    await db.redis.del(`feed:pull:{${reader.id}}`);
    expect(await cachedSkeleton(api.deps, reader.id, 5, null)).toBeNull();
    await api.call("GET", "/feed", { token: reader.token });
    await db.redis.del(`feed:head:{${reader.id}}`);
    expect(await cachedSkeleton(api.deps, reader.id, 5, null)).toBeNull();
  });
});
