import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createSql, type Sql } from "../db/client.ts";
import { migrate } from "../db/migrate.ts";
import { openTestDb, type TestDb } from "../db/testing.ts";
import { dropIndexes, indexCount, invalidIndexes } from "./seed/sql.ts";

// The seeder end to end, as `./dev seed` runs it, in a database of its own: real COPY, real
// index drops and rebuilds, resumption and refusals.

const TABLES = ["follows", "likes", "posts", "post_stats", "user_feed", "user_stats"];
let admin: TestDb;
let sql: Sql;
let url: string;
const name = `feed_seed_${process.pid}`;

beforeAll(async () => {
  admin = await openTestDb();
  await admin.sql`DROP DATABASE IF EXISTS ${admin.sql(name)}`;
  await admin.sql`CREATE DATABASE ${admin.sql(name)}`;
  const u = new URL(admin.config.DATABASE_URL);
  u.pathname = `/${name}`;
  url = u.toString();
  sql = createSql({ url, max: 2 });
  await migrate(sql);
});

afterAll(async () => {
  await sql.end();
  await admin.sql`DROP DATABASE IF EXISTS ${admin.sql(name)} WITH (FORCE)`;
  await admin.close();
});

function seed(...args: string[]) {
  const run = Bun.spawnSync(["bun", `${import.meta.dir}/seed.ts`, ...args], {
    env: { ...process.env, DATABASE_URL: url, NODE_ENV: "development" },
  });
  return { code: run.exitCode, out: run.stdout.toString(), err: run.stderr.toString() };
}

async function counts() {
  const [c] = await sql`
    SELECT (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM follows)::int AS follows,
           (SELECT count(*) FROM posts)::int AS posts, (SELECT count(*) FROM likes)::int AS likes,
           (SELECT count(*) FROM user_feed)::int AS feed, (SELECT count(*) FROM user_stats)::int AS user_stats,
           (SELECT count(*) FROM post_stats)::int AS post_stats,
           (SELECT count(*) FROM feed_readers)::int AS readers,
           (SELECT count(*) FROM feed_readers WHERE last_read_at > now() - interval '1 day')::int AS active`;
  return c!;
}

// The seeder runs as a child process, a few of them per test.
setDefaultTimeout(60_000);

describe("./dev seed", () => {
  test("refuses nonsense sizes with a clear message and writes nothing", () => {
    for (const [args, msg] of [
      [["--users", "5"], "--users must be between 100 and 20000000"],
      [["--users", "lots"], '--users must be a number, got "lots"'],
      [["--users", "1000", "--follows-mean", "900"], "too high"],
      [["--active-share", "2"], "--active-share must be between 0 and 1"],
      [["--bogus"], "Unknown option"],
    ] as const) {
      const r = seed(...args);
      expect(r.code).toBe(2);
      expect(r.err).toContain(msg);
    }
  });

  test("loads a consistent network, rebuilds every index, and a rerun adds nothing", async () => {
    const fresh = await indexCount(sql, TABLES).catch(() => 0);
    const r = seed("--users", "2000", "--follows-mean", "20");
    expect(r.code).toBe(0);
    expect(r.out).toContain("seed: 2000 users");
    expect(r.err).toContain("baseline raw COPY");
    for (const phase of ["users", "follows", "posts", "likes", "stats", "feeds"])
      expect(r.err).toContain(phase);

    const c = await counts();
    expect(c.users).toBe(2000);
    expect(c.follows).toBeGreaterThan(2000 * 15);
    expect(c.posts).toBe(4000);
    expect(c.user_stats).toBe(2000);
    expect(c.post_stats).toBe(4000);
    expect(c.feed).toBeGreaterThan(0);
    // Everyone has a last read; about the active share read today, the others are away.
    expect(c.readers).toBe(2000);
    expect(c.active).toBeGreaterThan(100);
    expect(c.active).toBeLessThan(300);

    // Every index back and valid (the migrated database's count, taken before the seed).
    expect(await invalidIndexes(sql, TABLES)).toEqual([]);
    expect(await indexCount(sql, TABLES)).toBe(fresh);
    expect((await sql`SELECT count(*)::int AS n FROM seed_dropped_indexes`)[0]!.n).toBe(0);

    // Stats equal the rows, as the projector would have counted them.
    const [bad] = await sql`
      SELECT
        (SELECT count(*) FROM user_stats s WHERE s.followers_count <>
           (SELECT count(*) FROM follows f WHERE f.followee_id = s.user_id))::int AS followers,
        (SELECT count(*) FROM user_stats s WHERE s.following_count <>
           (SELECT count(*) FROM follows f WHERE f.follower_id = s.user_id))::int AS following,
        (SELECT count(*) FROM post_stats s WHERE s.like_count <>
           (SELECT count(*) FROM likes l WHERE l.post_id = s.post_id))::int AS likes,
        -- a feed row is a post by someone the reader follows, or by the reader, with the post's
        -- author and time
        (SELECT count(*) FROM user_feed uf WHERE NOT EXISTS (
           SELECT 1 FROM posts p
           WHERE p.id = uf.post_id AND p.author_id = uf.author_id AND p.created_at = uf.created_at
             AND (p.author_id = uf.user_id OR EXISTS (
               SELECT 1 FROM follows f WHERE f.follower_id = uf.user_id AND f.followee_id = p.author_id))))::int AS feed,
        (SELECT count(*) FROM user_feed WHERE user_id = author_id)::int AS own`;
    expect(bad).toMatchObject({ followers: 0, following: 0, likes: 0, feed: 0 });
    expect(bad!.own).toBeGreaterThan(0); // authors see their own posts, as in the app

    const again = seed("--users", "2000", "--follows-mean", "20");
    expect(again.code).toBe(0);
    expect(again.out).toContain("already complete");
    expect(await counts()).toEqual(c);
    // --if-absent keeps a complete seed at least as large, whatever its other parameters.
    const kept = seed("--users", "1500", "--if-absent");
    expect([kept.code, kept.out]).toEqual([
      0,
      expect.stringContaining("keeping the existing complete seed of 2000"),
    ]);
    expect(await counts()).toEqual(c);
  });

  test("resumes an interrupted run without duplicates, after a crash that left indexes dropped", async () => {
    const before = await counts();
    const indexes = await indexCount(sql, TABLES);
    // What a kill -9 in the middle of "likes" leaves: likes started (partly written), feeds
    // never begun, keys and indexes dropped.
    await sql`UPDATE seed_runs SET state = 'started' WHERE phase = 'likes'`;
    await sql`DELETE FROM seed_runs WHERE phase IN ('stats', 'feeds')`;
    await sql`DELETE FROM user_feed`;
    await sql`DELETE FROM feed_readers`;
    await sql`DELETE FROM user_stats`;
    await sql`DELETE FROM post_stats`;
    expect(await dropIndexes(sql, TABLES)).toBeGreaterThan(0);

    const r = seed("--users", "2000", "--follows-mean", "20");
    expect([r.code, r.err]).toEqual([0, expect.stringContaining("rebuilt")]);
    expect(await counts()).toEqual(before);
    expect(await indexCount(sql, TABLES)).toBe(indexes);
    expect(await invalidIndexes(sql, TABLES)).toEqual([]);
  });

  test("other parameters are refused unless --restart, which replaces the seed", async () => {
    const r = seed("--users", "1000", "--follows-mean", "20");
    expect(r.code).toBe(2);
    expect(r.err).toContain("--restart");
    const again = seed("--users", "1000", "--follows-mean", "20", "--restart");
    expect([again.code, again.err]).toEqual([0, expect.stringContaining("removing the previous seed")]);
    expect((await counts()).users).toBe(1000);
  });
});
