import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
// The pipeline test drives the api in-process and real projector instances: the one place
// where both sides meet, as they do through PostgreSQL and Redis in production.
import { testApp } from "../api/testing.ts";
import { isCluster, runCommands } from "../core/redis.ts";
import { keys, LIKED_COMPLETE } from "../core/redis-keys.ts";
import { openTestDb, type TestDb } from "../db/testing.ts";
import { sweepAway } from "./maintenance.ts";
import { startTestProjector, waitFor } from "./testing.ts";

let db: TestDb;
let api: ReturnType<typeof testApp>;
let proj: Awaited<ReturnType<typeof startTestProjector>>;

beforeAll(async () => {
  db = await openTestDb({ STREAM_PARTITIONS: "4" });
});
afterAll(async () => {
  await db.close();
});
beforeEach(async () => {
  await proj?.stop();
  await db.reset();
  api = testApp(db);
  proj = await startTestProjector(db);
});

const key = () => crypto.randomUUID();

/** Every page of a reader's feed, following next_cursor to the end. */
async function readAllPages(
  app: ReturnType<typeof testApp>,
  token: string,
  limit: number,
): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const r: { body: { items: { id: string }[]; next_cursor: string | null } } = await app.call(
      "GET",
      `/feed?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`,
      { token },
    );
    seen.push(...r.body.items.map((i) => i.id));
    cursor = r.body.next_cursor;
  } while (cursor);
  return seen;
}
async function post(token: string, text: string) {
  const r = await api.call("POST", "/posts", {
    token,
    json: { text },
    headers: { "idempotency-key": key() },
  });
  expect(r.status).toBe(201);
  return r.body as { id: string; text: string };
}
async function feed(token: string, q = "") {
  const r = await api.call("GET", `/feed${q}`, { token });
  expect(r.status).toBe(200);
  return r.body as {
    items: { id: string; text: string; like_count: number; liked_by_me: boolean; author: { id: string } }[];
    next_cursor: string | null;
  };
}

describe("command → event → projector → read model → query", () => {
  test("a follower's feed shows a new post; the author's own feed too", async () => {
    const alice = await db.makeUser();
    const bob = await db.makeUser();
    expect(
      (await api.call("POST", "/follows", { token: bob.token, json: { user_id: alice.id } })).status,
    ).toBe(201);
    const p = await post(alice.token, "hello followers");
    await proj.settle();
    const bobFeed = await feed(bob.token);
    expect(bobFeed.items.map((i) => i.id)).toEqual([p.id]);
    expect(bobFeed.items[0]!.author.id).toBe(alice.id);
    expect((await feed(alice.token)).items.map((i) => i.id)).toEqual([p.id]);
    const rows = await db.sql`SELECT user_id::text FROM user_feed WHERE post_id = ${p.id} ORDER BY user_id`;
    expect(rows.map((r) => r.user_id).sort()).toEqual([alice.id, bob.id].sort());
    const [stats] = await db.sql`SELECT posts_count::int FROM user_stats WHERE user_id = ${alice.id}`;
    expect(stats?.posts_count).toBe(1);
  });

  test("follow backfills recent posts; unfollow removes them; counters follow", async () => {
    const alice = await db.makeUser();
    const bob = await db.makeUser();
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await post(alice.token, `old ${i}`)).id);
    await proj.settle();
    await feed(bob.token); // a cached head exists before the follow: it must be rebuilt
    await api.call("POST", "/follows", { token: bob.token, json: { user_id: alice.id } });
    await proj.settle();
    expect((await feed(bob.token)).items.map((i) => i.id)).toEqual(ids.reverse());
    const prof = await api.call("GET", `/users/${alice.id}`, { token: bob.token });
    expect(prof.body).toMatchObject({
      followers_count: 1,
      following_count: 0,
      posts_count: 3,
      followed_by_me: true,
    });

    expect((await api.call("DELETE", `/follows/${alice.id}`, { token: bob.token })).status).toBe(204);
    await proj.settle();
    expect((await feed(bob.token)).items).toEqual([]);
    const prof2 = await api.call("GET", `/users/${alice.id}`, { token: bob.token });
    expect(prof2.body).toMatchObject({ followers_count: 0, followed_by_me: false });
  });

  test("likes move like_count and liked_by_me, and popular posts", async () => {
    const alice = await db.makeUser();
    const bob = await db.makeUser();
    const p = await post(alice.token, "like me");
    const q = await post(alice.token, "less popular");
    await proj.settle();
    expect((await api.call("GET", `/posts/${p.id}`, { token: bob.token })).body).toMatchObject({
      like_count: 0,
      liked_by_me: false,
    });
    expect((await api.call("POST", "/likes", { token: bob.token, json: { post_id: p.id } })).status).toBe(
      201,
    );
    expect((await api.call("POST", "/likes", { token: bob.token, json: { post_id: p.id } })).status).toBe(
      200,
    );
    expect((await api.call("POST", "/likes", { token: alice.token, json: { post_id: p.id } })).status).toBe(
      201,
    );
    expect((await api.call("POST", "/likes", { token: alice.token, json: { post_id: q.id } })).status).toBe(
      201,
    );
    await proj.settle();
    expect((await api.call("GET", `/posts/${p.id}`, { token: bob.token })).body).toMatchObject({
      like_count: 2,
      liked_by_me: true,
    });
    const popular = await api.call("GET", "/posts/popular", { token: bob.token });
    expect(popular.body.items.map((i: { id: string }) => i.id)).toEqual([p.id, q.id]);

    expect((await api.call("DELETE", `/likes/${p.id}`, { token: bob.token })).status).toBe(204);
    await proj.settle();
    expect((await api.call("GET", `/posts/${p.id}`, { token: bob.token })).body).toMatchObject({
      like_count: 1,
      liked_by_me: false,
    });
    const outbox =
      await db.sql`SELECT type FROM outbox WHERE type IN ('PostLiked', 'PostUnliked') ORDER BY created_at`;
    // The repeated like changed nothing, so it emitted nothing.
    expect(outbox.map((r) => r.type)).toEqual(["PostLiked", "PostLiked", "PostLiked", "PostUnliked"]);
  });

  test("authors above FANOUT_PULL_THRESHOLD are pulled at read time, not pushed", async () => {
    await proj.stop();
    const small = await openTestDb({ STREAM_PARTITIONS: "4", FANOUT_PULL_THRESHOLD: "2" });
    try {
      const sapi = testApp(small);
      const sproj = await startTestProjector(small);
      const star = await small.makeUser();
      const fans = await Promise.all([1, 2, 3].map(() => small.makeUser()));
      for (const f of fans)
        await sapi.call("POST", "/follows", { token: f.token, json: { user_id: star.id } });
      await sproj.settle();
      const r = await sapi.call("POST", "/posts", {
        token: star.token,
        json: { text: "to the many" },
        headers: { "idempotency-key": key() },
      });
      await sproj.settle();
      const pushed = await small.sql`SELECT count(*)::int AS n FROM user_feed WHERE post_id = ${r.body.id}`;
      expect(pushed[0]?.n).toBe(1); // only the author's own feed
      for (const f of fans) {
        const page = await sapi.call("GET", "/feed", { token: f.token });
        expect(page.body.items.map((i: { id: string }) => i.id)).toEqual([r.body.id]);
      }
      // A second post reaches readers through the author cache the first read created.
      const r2 = await sapi.call("POST", "/posts", {
        token: star.token,
        json: { text: "again" },
        headers: { "idempotency-key": key() },
      });
      await sproj.settle();
      const page = await sapi.call("GET", "/feed", { token: fans[0]!.token });
      expect(page.body.items.map((i: { id: string }) => i.id)).toEqual([r2.body.id, r.body.id]);
      await sproj.stop();
    } finally {
      await small.close();
    }
  });

  test("paging past a pull author's cache reads the rest of their posts from PostgreSQL", async () => {
    await proj.stop();
    const small = await openTestDb({
      STREAM_PARTITIONS: "4",
      FANOUT_PULL_THRESHOLD: "1",
      AUTHOR_CACHE_POSTS: "5",
    });
    try {
      const sapi = testApp(small);
      const sproj = await startTestProjector(small);
      const star = await small.makeUser();
      const [f1, f2] = [await small.makeUser(), await small.makeUser()];
      for (const f of [f1, f2])
        await sapi.call("POST", "/follows", { token: f.token, json: { user_id: star.id } });
      await sproj.settle();
      const created: string[] = [];
      for (let i = 0; i < 12; i++) {
        const r = await sapi.call("POST", "/posts", {
          token: star.token,
          json: { text: `s${i}` },
          headers: { "idempotency-key": key() },
        });
        created.push(r.body.id);
      }
      await sproj.settle();
      const seen = await readAllPages(sapi, f1.token, 3);
      expect(seen).toEqual([...created].reverse());
      await sproj.stop();
    } finally {
      await small.close();
    }
  });

  test("paging a feed of 250 posts by 7 returns each exactly once while new posts arrive", async () => {
    const reader = await db.makeUser();
    const authors = await Promise.all([1, 2, 3, 4, 5].map(() => db.makeUser()));
    for (const a of authors)
      await api.call("POST", "/follows", { token: reader.token, json: { user_id: a.id } });
    const created: string[] = [];
    for (let i = 0; i < 250; i++) created.push((await post(authors[i % 5]!.token, `post ${i}`)).id);
    await proj.settle(30_000);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await feed(reader.token, `?limit=7${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.items.length).toBeLessThanOrEqual(7);
      seen.push(...page.items.map((i) => i.id));
      cursor = page.next_cursor;
      pages++;
      // New posts keep arriving while the reader scrolls; they belong above the first page.
      if (pages % 5 === 0) {
        await post(authors[pages % 5]!.token, `late ${pages}`);
        await proj.settle();
      }
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.sort()).toEqual([...created].sort());
    expect(pages).toBe(Math.ceil(250 / 7));
  });

  test("a feed page costs a fixed number of PostgreSQL round-trips, whatever its size", async () => {
    const reader = await db.makeUser();
    const author = await db.makeUser();
    await api.call("POST", "/follows", { token: reader.token, json: { user_id: author.id } });
    const created: string[] = [];
    for (let i = 0; i < 60; i++) created.push((await post(author.token, `p${i}`)).id);
    // One like of the reader's on the first page: liked_by_me comes from the reader's liked set.
    const liked = created[58]!;
    expect((await api.call("POST", "/likes", { token: reader.token, json: { post_id: liked } })).status).toBe(
      201,
    );
    await proj.settle();
    // The projector shares this database handle (its sweeper and lane poll): stop it, so that
    // only the api's statements are counted.
    await proj.stop();
    // Everything cold: heads, bodies, counts, users, liked sets (the streams stay).
    const cacheKeys = (await db.redisKeys()).filter((k) => !k.startsWith("feed:events:") && k !== keys.dlq);
    await runCommands(
      db.redis,
      cacheKeys.map((k) => ["del", k]),
    );

    // The reader's first read of the day also records it (feed_readers): one statement more.
    db.resetCount();
    await feed(reader.token, "?limit=5");
    expect(db.queryCount()).toBeLessThanOrEqual(4);
    for (const limit of [5, 50]) {
      await db.redis.del(keys.feedHead(reader.id), keys.user(reader.id));
      db.resetCount();
      const cold = await feed(reader.token, `?limit=${limit}`);
      expect(cold.items.length).toBe(limit);
      expect(db.queryCount()).toBeLessThanOrEqual(3);
      db.resetCount();
      const warm = await feed(reader.token, `?limit=${limit}`);
      expect(warm.items.map((i) => i.id)).toEqual(cold.items.map((i) => i.id));
      expect(warm.items.filter((i) => i.liked_by_me).map((i) => i.id)).toEqual([liked]);
      // Head, bodies, counts, authors and the reader's liked set all cached: PostgreSQL is not
      // asked at all (liked_by_me used to cost one statement on every page).
      expect(await db.redis.sismember(keys.likedPosts(reader.id), LIKED_COMPLETE)).toBe(1);
      expect(db.queryCount()).toBe(0);
    }
    // Every later page costs the same: 60 posts by 20 is three pages and then the end.
    let cursor: string | null = null;
    let pages = 0;
    do {
      db.resetCount();
      const page = await feed(reader.token, `?limit=20${cursor ? `&cursor=${cursor}` : ""}`);
      expect(db.queryCount()).toBeLessThanOrEqual(3);
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);

    // Redis work per page does not grow with the page either. MONITOR sees every command; only
    // the test database's count (other stacks on this Redis use others). On a cluster hydration
    // sends one MGET per slot, so commands grow with the page there (round-trips do not: one per
    // node): the count is a standalone Redis's.
    if (isCluster(db.redis)) return;
    // The reader's read of the day is written in a batch, with its seen mark, off the read path:
    // done before counting, so that its SET is not counted as a page's.
    await api.deps.touches?.flush();
    const monitor = await db.redis.monitor();
    let commands = 0;
    const dbIndex = new URL(db.config.REDIS_URL).pathname.slice(1) || "0";
    // Commands a script runs inside Redis show up too, with source "lua": only what the api sends.
    const sent: string[] = [];
    monitor.on("monitor", (_time: string, args: string[], source: string, database: string) => {
      if (database === dbIndex && source !== "lua") {
        commands++;
        sent.push(String(args[0]).toLowerCase());
      }
    });
    const perPage: number[] = [];
    for (const limit of [5, 50]) {
      await Bun.sleep(50);
      const before = commands;
      await feed(reader.token, `?limit=${limit}`);
      await Bun.sleep(50);
      perPage.push(commands - before);
    }
    monitor.disconnect();
    expect(perPage[0]).toBeGreaterThan(0);
    expect(perPage[0]).toBe(perPage[1]!);
    // The page is two round-trips (api/feed/cached-skeleton.ts): ZRANGE and an MGET of the pull
    // list and seen mark for the head (its ZCARD only for a page past its end), then an MGET of
    // the counts and SMISMEMBER of the liked flags; bodies and authors come from the api's
    // memory. Besides them only the read rate limit's script.
    expect(perPage[0]).toBeLessThanOrEqual(5);
    expect(sent.filter((c) => c === "mget").length).toBe(4); // two per page
  });

  test("readers away longer than FEED_ACTIVE_DAYS are skipped by fan-out and rebuilt when they return", async () => {
    const alice = await db.makeUser();
    const bob = await db.makeUser(); // no feed_readers row: counts as active
    const carol = await db.makeUser();
    for (const u of [bob, carol])
      await api.call("POST", "/follows", { token: u.token, json: { user_id: alice.id } });
    await proj.settle();
    // Carol last read her feed a month ago, and the projector's sweep has marked her away.
    await db.sql`INSERT INTO feed_readers (user_id, last_read_at) VALUES (${carol.id}, now() - interval '30 days')`;
    expect(await sweepAway(db.sql, db.config.FEED_ACTIVE_DAYS)).toBe(1);
    const p1 = await post(alice.token, "while carol was away");
    await proj.settle();
    const rows = await db.sql`SELECT user_id::text FROM user_feed WHERE post_id = ${p1.id}`;
    expect(rows.map((r) => r.user_id).sort()).toEqual([alice.id, bob.id].sort());

    // She returns: her feed is rebuilt before the first page, which shows the post.
    db.resetCount();
    expect((await feed(carol.token)).items.map((i) => i.id)).toEqual([p1.id]);
    const [mark] =
      await db.sql`SELECT last_read_at > now() - interval '1 minute' AS recent FROM feed_readers WHERE user_id = ${carol.id}`;
    expect(mark?.recent).toBe(true);
    expect(
      (await db.sql`SELECT 1 FROM user_feed WHERE user_id = ${carol.id} AND post_id = ${p1.id}`).length,
    ).toBe(1);

    // Active again: the next post is pushed to her like to anyone, and reads stay cheap.
    const p2 = await post(alice.token, "carol is back");
    await proj.settle();
    expect(
      (await db.sql`SELECT 1 FROM user_feed WHERE user_id = ${carol.id} AND post_id = ${p2.id}`).length,
    ).toBe(1);
    // Stopped first: the projector's sweeper and lane poll on the same handle, and on a busy
    // machine one of their statements can land inside the read being counted.
    await proj.stop();
    db.resetCount();
    expect((await feed(carol.token)).items.map((i) => i.id)).toEqual([p2.id, p1.id]);
    expect(db.queryCount()).toBeLessThanOrEqual(1);
  });

  test("a returning reader's rebuilt feed leaves pull authors to the read-time merge", async () => {
    await proj.stop(); // no projector: only the rebuild writes user_feed here
    const small = await openTestDb({ STREAM_PARTITIONS: "4", FANOUT_PULL_THRESHOLD: "1" });
    try {
      const app = testApp(small);
      const star = await small.makeUser();
      const fan = await small.makeUser();
      const other = await small.makeUser();
      const friend = await small.makeUser();
      for (const u of [fan, other])
        await app.call("POST", "/follows", { token: u.token, json: { user_id: star.id } });
      await app.call("POST", "/follows", { token: fan.token, json: { user_id: friend.id } });
      await small.sql`INSERT INTO user_stats (user_id, followers_count) VALUES (${star.id}, 2), (${friend.id}, 1)
                      ON CONFLICT (user_id) DO UPDATE SET followers_count = EXCLUDED.followers_count`;
      await small.sql`INSERT INTO feed_readers VALUES (${fan.id}, now() - interval '30 days')`;
      const s = await app.call("POST", "/posts", {
        token: star.token,
        json: { text: "star" },
        headers: { "idempotency-key": key() },
      });
      const f = await app.call("POST", "/posts", {
        token: friend.token,
        json: { text: "friend" },
        headers: { "idempotency-key": key() },
      });
      const page = await app.call("GET", "/feed", { token: fan.token });
      expect(page.body.items.map((i: { id: string }) => i.id)).toEqual([f.body.id, s.body.id]);
      // The friend's post was written into user_feed by the rebuild; the star's was not.
      const rows = await small.sql`SELECT post_id::text FROM user_feed WHERE user_id = ${fan.id}`;
      expect(rows.map((r) => r.post_id)).toEqual([f.body.id]);
    } finally {
      await small.close();
    }
  });

  test("big authors are fanned out by the lane batch by batch; small authors' posts do not wait", async () => {
    await proj.stop();
    const lanes = await openTestDb({
      STREAM_PARTITIONS: "4",
      FANOUT_INLINE_MAX: "2",
      FANOUT_BATCH_SIZE: "3",
    });
    try {
      const app = testApp(lanes);
      const p = await startTestProjector(lanes, { fanoutLane: false });
      const star = await lanes.makeUser();
      const small = await lanes.makeUser();
      const fans = [];
      for (let i = 0; i < 8; i++) fans.push(await lanes.makeUser());
      const friend = fans[0]!;
      // Follow rows and counts straight in the tables: this test is about the post.
      for (const table of ["follows", "active_follows"])
        await lanes.sql`INSERT INTO ${lanes.sql(table)} (follower_id, followee_id)
                        SELECT unnest(${fans.map((f) => f.id)}::bigint[]), ${star.id}::bigint
                        UNION ALL SELECT ${friend.id}::bigint, ${small.id}::bigint`;
      await lanes.sql`INSERT INTO user_stats (user_id, followers_count) VALUES (${star.id}, 8), (${small.id}, 1)`;
      const send = async (token: string, text: string) =>
        (await app.call("POST", "/posts", { token, json: { text }, headers: { "idempotency-key": key() } }))
          .body.id as string;
      const readersOf = async (postId: string) =>
        (await lanes.sql`SELECT user_id::text FROM user_feed WHERE post_id = ${postId} ORDER BY user_id`).map(
          (r) => r.user_id,
        );

      const big = await send(star.token, "to eight");
      await p.settle();
      // The event is handled (the partition moved on); the fan-out waits in the lane.
      expect(await readersOf(big)).toEqual([star.id]);
      expect(
        (await lanes.sql`SELECT after_follower::text FROM fanout_jobs WHERE post_id = ${big}`).length,
      ).toBe(1);

      // A small author's post meanwhile reaches its follower at once.
      const little = await send(small.token, "to one");
      await p.settle();
      expect(await readersOf(little)).toEqual([friend.id, small.id].sort());

      // Three batches of three, in turns; then nothing is left.
      const rowsBefore = await p.metrics.registry.getSingleMetricAsString("fanout_rows_total");
      expect(await p.projector.lane.step()).toBe(true);
      expect((await readersOf(big)).length).toBe(1 + 3);
      expect(await p.projector.lane.step()).toBe(true);
      expect(await p.projector.lane.step()).toBe(true);
      expect(await p.projector.lane.step()).toBe(false);
      expect(await readersOf(big)).toEqual([star.id, ...fans.map((f) => f.id)].sort());
      expect((await lanes.sql`SELECT 1 FROM fanout_jobs`).length).toBe(0);
      expect(rowsBefore).toContain("fanout_rows_total 1"); // the small post's one row
      expect(await p.metrics.registry.getSingleMetricAsString("fanout_rows_total")).toContain(
        "fanout_rows_total 9",
      );

      // A redelivered event enqueues the job again: redoing it writes nothing twice.
      await lanes.sql`INSERT INTO fanout_jobs (post_id, author_id) VALUES (${big}, ${star.id})`;
      while (await p.projector.lane.step()) {}
      expect(await readersOf(big)).toEqual([star.id, ...fans.map((f) => f.id)].sort());

      // Started with the projector (as in production), the lane drains jobs by itself.
      const next = await send(star.token, "again");
      p.projector.lane.start();
      await waitFor(async () => (await readersOf(next)).length === 9, 10_000, "the lane to fan out");
      await p.stop();
    } finally {
      await lanes.close();
    }
  });

  test("pages past the cached head come from a keyset scan of user_feed, each post once", async () => {
    await proj.stop();
    const small = await openTestDb({ STREAM_PARTITIONS: "4", FEED_CACHE_ITEMS: "10" });
    try {
      const sapi = testApp(small);
      const sproj = await startTestProjector(small);
      const reader = await small.makeUser();
      const author = await small.makeUser();
      await sapi.call("POST", "/follows", { token: reader.token, json: { user_id: author.id } });
      const created: string[] = [];
      for (let i = 0; i < 33; i++) {
        const r = await sapi.call("POST", "/posts", {
          token: author.token,
          json: { text: `k${i}` },
          headers: { "idempotency-key": key() },
        });
        created.push(r.body.id);
      }
      await sproj.settle();
      const seen = await readAllPages(sapi, reader.token, 4);
      expect(seen).toEqual([...created].reverse());
      expect(await small.redis.zcard(keys.feedHead(reader.id))).toBe(11); // 10 items + the sentinel
      await sproj.stop();
    } finally {
      await small.close();
    }
  });

  test("a crash between commit and XADD is repaired by the outbox sweeper", async () => {
    const crashing = testApp(db, {
      afterCommit: () => {
        throw new Error("simulated crash after commit");
      },
    });
    const alice = await db.makeUser();
    const bob = await db.makeUser();
    await api.call("POST", "/follows", { token: bob.token, json: { user_id: alice.id } });
    // The follow's backfill must run before the post exists, or it would bring the post in.
    await proj.settle();
    const r = await crashing.call("POST", "/posts", {
      token: alice.token,
      json: { text: "survives" },
      headers: { "idempotency-key": key() },
    });
    expect(r.status).toBe(201);
    await proj.settle();
    const [row] = await db.sql`SELECT published_at FROM outbox WHERE type = 'PostCreated'`;
    expect(row?.published_at).toBeNull();
    expect((await feed(bob.token)).items).toEqual([]);

    await db.sql`UPDATE outbox SET created_at = created_at - interval '1 hour' WHERE published_at IS NULL`;
    await proj.projector.sweep();
    await proj.settle();
    expect((await feed(bob.token)).items.map((i) => i.id)).toEqual([r.body.id]);
    const [after] = await db.sql`SELECT published_at FROM outbox WHERE type = 'PostCreated'`;
    expect(after?.published_at).not.toBeNull();
  });
});
