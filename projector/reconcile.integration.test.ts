import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { testApp } from "../api/testing.ts";
import { keys } from "../core/redis-keys.ts";
import { removeAuthorFromFeed, trimFeeds } from "../db/projections.ts";
import { rebuildUserFeed, reconcile, sampleUsers, userIdsAfter } from "../db/reconcile.ts";
import { openTestDb, type TestDb } from "../db/testing.ts";
import { startTestProjector } from "./testing.ts";

// ./dev reconcile and ./dev rebuild-feeds against a real pipeline: clean after the projector
// drains, and each kind of drift, injected by hand, is counted and (for feeds) cured.

// The CLI runs as a child process, several times.
setDefaultTimeout(60_000);

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb({ STREAM_PARTITIONS: "2" });
  await db.reset();
});
afterAll(async () => {
  await db.close();
});

const options = () => ({
  feedMaxItems: db.config.FEED_MAX_ITEMS,
  pullThreshold: db.config.FANOUT_PULL_THRESHOLD,
  activeDays: db.config.FEED_ACTIVE_DAYS,
  unpublishedAfterMs: 60_000,
});

function cli(...args: string[]) {
  const r = Bun.spawnSync(["bun", `${import.meta.dir}/reconcile-cli.ts`, ...args], {
    env: { ...process.env, DATABASE_URL: db.config.DATABASE_URL, REDIS_URL: db.config.REDIS_URL },
  });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

describe("reconcile and rebuild", () => {
  test("clean after a drained pipeline; each drift counted; rebuild-feeds cures the feeds", async () => {
    const api = testApp(db);
    const proj = await startTestProjector(db);
    const [alice, bob, carol, dave] = [
      await db.makeUser(),
      await db.makeUser(),
      await db.makeUser(),
      await db.makeUser(),
    ];
    for (const u of [bob, carol])
      expect(
        (await api.call("POST", "/follows", { token: u.token, json: { user_id: alice.id } })).status,
      ).toBe(201);
    await proj.settle();
    const posts: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await api.call("POST", "/posts", {
        token: alice.token,
        json: { text: `post ${i}` },
        headers: { "idempotency-key": crypto.randomUUID() },
      });
      posts.push(r.body.id);
    }
    await api.call("POST", "/likes", { token: bob.token, json: { post_id: posts[0] } });
    await proj.settle();
    await proj.stop();

    expect(await reconcile(db.sql, options())).toMatchObject({
      lost: 0,
      duplicated: 0,
      stale_counts: 0,
      unpublished: 0,
    });
    const clean = cli("reconcile");
    expect([clean.code, clean.out.trim()]).toEqual([
      0,
      "lost=0 duplicated=0 stale_counts=0 unpublished=0 dlq=0",
    ]);

    // Drift of every kind.
    await db.sql`DELETE FROM user_feed WHERE user_id = ${bob.id} AND post_id = ${posts[1]!}`;
    await db.sql`INSERT INTO user_feed (user_id, post_id, author_id, created_at)
                 SELECT ${dave.id}, id, author_id, created_at FROM posts WHERE id = ${posts[2]!}`;
    await db.sql`UPDATE post_stats SET like_count = like_count + 1 WHERE post_id = ${posts[0]!}`;
    await db.sql`UPDATE user_stats SET followers_count = 7 WHERE user_id = ${alice.id}`;
    await db.sql`INSERT INTO outbox (id, stream, type, event, created_at)
                 VALUES (next_id(0), 'feed:events:0', 'PostCreated', '{}', now() - interval '1 hour')`;
    const drift = await reconcile(db.sql, options());
    expect(drift).toMatchObject({ lost: 1, duplicated: 1, stale_counts: 2, unpublished: 1 });
    expect(drift.examples.lost).toEqual([`post ${posts[1]} missing from ${bob.id}'s feed`]);
    expect(drift.examples.stale_counts).toContain(`user ${alice.id}: followers 7, rows 2`);
    const found = cli("reconcile");
    expect(found.code).toBe(1);
    expect(found.out).toStartWith("lost=1 duplicated=1 stale_counts=2 unpublished=1 dlq=0\n");
    expect(found.out).toContain(`lost: post ${posts[1]} missing from ${bob.id}'s feed`);

    // A sample that leaves bob and dave out sees no feed drift.
    const sampled = await reconcile(db.sql, { ...options(), readers: [carol.id] });
    expect([sampled.lost, sampled.duplicated]).toEqual([0, 0]);

    // Rebuilding bob's and dave's feeds cures both, and drops their cached heads.
    await db.redis.set(keys.feedHead(bob.id), "stale");
    expect(cli("rebuild-feeds", "--user", bob.id)).toMatchObject({
      code: 0,
      out: expect.stringContaining("rows"),
    });
    expect(await db.redis.exists(keys.feedHead(bob.id))).toBe(0);
    const all = cli("rebuild-feeds");
    expect([all.code, all.out.trim()]).toEqual([0, expect.stringMatching(/^rebuilt 4 feeds: \d+ rows$/)]);
    const after = await reconcile(db.sql, options());
    expect([after.lost, after.duplicated]).toEqual([0, 0]);
    expect(
      (await db.sql`SELECT post_id::text FROM user_feed WHERE user_id = ${bob.id} ORDER BY post_id`).map(
        (r) => r.post_id,
      ),
    ).toEqual([...posts].sort());
  });

  test("the pieces the CLI pages with: samples, id pages, one feed's rebuild", async () => {
    const ids = (await db.sql`SELECT id::text FROM users ORDER BY id`).map((r) => r.id as string);
    expect((await sampleUsers(db.sql, 2)).length).toBe(2);
    expect(await userIdsAfter(db.sql, "0", 2)).toEqual(ids.slice(0, 2));
    expect(await userIdsAfter(db.sql, ids.at(-1)!, 2)).toEqual([]);
    const rows = await rebuildUserFeed(db.sql, { userId: ids[0]!, max: 10, pullThreshold: 10_000 });
    expect(rows).toBeGreaterThanOrEqual(0);
  });

  test("refuses bad arguments with the option named", () => {
    for (const [args, msg] of [
      [["rebuild-feeds", "--user", "abc"], '--user must be a user id, got "abc"'],
      [["reconcile", "--sample", "0"], '--sample must be a positive whole number, got "0"'],
      [["reconcile", "--bogus"], "Unknown option"],
      [["explode"], "unknown command explode"],
    ] as const) {
      const r = cli(...args);
      expect([r.code, r.err]).toEqual([2, expect.stringContaining(msg)]);
    }
  });
});

describe("reconcile and the feed cap", () => {
  test("a feed trimmed, then shrunk by an unfollow, is not missing what the trim cut", async () => {
    // Found by the chaos suite: a reader's feed was cut to the cap, an unfollow then took it
    // under the cap, and reconcile, seeing a feed under the cap, expected every older post back.
    const [reader, a, b] = [await db.makeUser(), await db.makeUser(), await db.makeUser()];
    const hourAgo = new Date(Date.now() - 3_600_000);
    await db.follow(reader, a, { createdAt: hourAgo });
    await db.follow(reader, b, { createdAt: hourAgo });
    const posts: { id: string; author: string }[] = [];
    for (let i = 0; i < 8; i++) {
      const author = i % 2 === 0 ? a.id : b.id;
      const p = await db.makePost(author, { text: `capped ${i}` });
      posts.push({ id: p.id, author });
      await db.sql`INSERT INTO user_feed (user_id, post_id, author_id, created_at)
                   VALUES (${reader.id}, ${p.id}, ${author}, id_time(${p.id}))`;
      await Bun.sleep(2);
    }
    const o = { ...options(), feedMaxItems: 5, readers: [reader.id] };
    expect((await reconcile(db.sql, o)).lost).toBe(0);
    expect(await trimFeeds(db.sql, [reader.id], 5)).toBe(3); // a's 0 and 2, b's 1
    expect((await reconcile(db.sql, o)).lost).toBe(0); // at the cap: the oldest kept is the edge
    // Unfollow b: its rows go, the feed is under the cap, and a's trimmed posts stay trimmed.
    await db.sql`DELETE FROM follows WHERE follower_id = ${reader.id} AND followee_id = ${b.id}`;
    await removeAuthorFromFeed(db.sql, reader.id, b.id);
    expect((await reconcile(db.sql, o)).lost).toBe(0);
    // A post newer than the cut that is missing is still lost.
    await db.sql`DELETE FROM user_feed WHERE user_id = ${reader.id} AND post_id = ${posts[6]!.id}`;
    const r = await reconcile(db.sql, o);
    expect(r.lost).toBe(1);
    expect(r.examples.lost).toEqual([`post ${posts[6]!.id} missing from ${reader.id}'s feed`]);
    // A rebuild brings it back, and reconcile agrees.
    await rebuildUserFeed(db.sql, {
      userId: reader.id,
      max: 5,
      pullThreshold: db.config.FANOUT_PULL_THRESHOLD,
    });
    expect((await reconcile(db.sql, o)).lost).toBe(0);
  });
});
