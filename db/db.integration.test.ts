import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { composeId, shardOf, timestampOf } from "../core/ids.ts";
import { createSql, type Tx } from "./client.ts";
import { checksumOf, listMigrations, migrate } from "./migrate.ts";
import { gate, openTestDb, type TestDb } from "./testing.ts";

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(async () => {
  await db.close();
});

describe("migrations", () => {
  test("every migration is recorded once with its checksum", async () => {
    const files = await listMigrations();
    expect(files.length).toBeGreaterThan(0);
    const rows = await db.sql`SELECT version FROM schema_migrations ORDER BY version`;
    expect(rows.map((r) => r.version)).toEqual(files.map((f) => f.version));
  });

  test("two processes migrating a fresh database at once apply each migration once", async () => {
    const name = `feed_migrate_${process.pid}`;
    await db.sql`DROP DATABASE IF EXISTS ${db.sql(name)}`;
    await db.sql`CREATE DATABASE ${db.sql(name)}`;
    const url = new URL(db.config.DATABASE_URL);
    url.pathname = `/${name}`;
    const a = createSql({ url: url.toString(), max: 2 });
    const b = createSql({ url: url.toString(), max: 2 });
    try {
      const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
      const files = await listMigrations();
      expect([...ra, ...rb].sort()).toEqual(files.map((f) => f.version));
      expect(await migrate(a)).toEqual([]);
      const parts =
        await a`SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'user_feed'::regclass`;
      expect(parts[0]?.n).toBeGreaterThanOrEqual(16);
    } finally {
      await Promise.all([a.end(), b.end()]);
      await db.sql`DROP DATABASE IF EXISTS ${db.sql(name)}`;
    }
  });

  test("a migration edited after it was applied is refused", async () => {
    const dir = `${import.meta.dir}/../.dev/tmp-migrations-${process.pid}`;
    await Bun.write(`${dir}/0001_core.sql`, "SELECT 1;");
    await expect(migrate(db.sql, dir)).rejects.toThrow(/changed after it was applied/);
    await Bun.$`rm -rf ${dir}`;
  });

  test("rewording a whole-line comment in an applied migration is no change; a statement is", async () => {
    const [core] = await listMigrations();
    const text = await Bun.file(core!.file).text();
    const dir = `${import.meta.dir}/../.dev/tmp-migrations-c-${process.pid}`;
    try {
      await Bun.write(
        `${dir}/0001_core.sql`,
        `-- A new first line.\n\n${text.replace(/^-- .*$/m, "--  reworded")}`,
      );
      expect(await migrate(db.sql, dir)).toEqual([]);
      await Bun.write(`${dir}/0001_core.sql`, text.replace("CREATE", "CREATE  "));
      await expect(migrate(db.sql, dir)).rejects.toThrow(/changed after it was applied/);
    } finally {
      await Bun.$`rm -rf ${dir}`;
    }
  });

  test("a database holding whole-file hashes (the older checksums) has them replaced", async () => {
    const files = await listMigrations();
    const wholeFile = async (file: string) =>
      createHash("sha256")
        .update(await Bun.file(file).text())
        .digest("hex");
    // 0001 as it was before its comments were reworded; the rest as they are now.
    const older = "d25419e801c64a8315fe3cc1e665f462e20462e27f7c2fb61fd1c9281ecac152";
    for (const m of files)
      await db.sql`UPDATE schema_migrations SET checksum = ${m.version === "0001" ? older : await wholeFile(m.file)}
                   WHERE version = ${m.version}`;
    expect(await migrate(db.sql)).toEqual([]);
    const rows = await db.sql<
      { checksum: string }[]
    >`SELECT checksum FROM schema_migrations ORDER BY version`;
    const expected = await Promise.all(files.map(async (m) => checksumOf(await Bun.file(m.file).text())));
    expect(rows.map((r) => r.checksum)).toEqual(expected);
  });
});

describe("ids in SQL", () => {
  test("next_id embeds the shard and the time exactly as core/ids does", async () => {
    const before = Date.now();
    const rows = await db.sql<{ id: string; shard: number; t: Date }[]>`
      SELECT i::text AS id, id_shard(i) AS shard, id_time(i) AS t FROM (SELECT next_id(1234) AS i) x`;
    const after = Date.now();
    const { id, shard, t } = rows[0]!;
    expect(shardOf(id)).toBe(1234);
    expect(shard).toBe(1234);
    expect(timestampOf(id)).toBeGreaterThanOrEqual(before - 5);
    expect(timestampOf(id)).toBeLessThanOrEqual(after + 5);
    expect(t.getTime()).toBe(timestampOf(id));
    const ts = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    const made = composeId(ts, 99, 1).toString();
    const [back] = await db.sql<
      { s: number; t: Date }[]
    >`SELECT id_shard(${made}::bigint) AS s, id_time(${made}::bigint) AS t`;
    expect(back!.s).toBe(99);
    expect(back!.t.getTime()).toBe(ts);
  });

  test("a thousand ids from one shard in one statement are all distinct", async () => {
    const rows = await db.sql<{ id: string }[]>`SELECT next_id(7)::text AS id FROM generate_series(1, 1000)`;
    const ids = rows.map((r) => BigInt(r.id));
    expect(new Set(ids).size).toBe(1000);
  });
});

describe("follow and unfollow races", () => {
  test("an unfollow committed during a follow's backfill still removes the backfilled rows", async () => {
    const { backfillFollow, removeAuthorFromFeed } = await import("./projections.ts");
    const { deleteFollow, insertFollow } = await import("./graph.ts");
    await db.reset();
    const [a, b] = [await db.makeUser(), await db.makeUser()];
    for (let i = 0; i < 3; i++) await db.makePost(a, { text: `p${i}` });
    await insertFollow(db.sql, b.id, a.id);

    const held = gate();
    let inserted = 0;
    const backfill = db.sql.begin(async (tx) => {
      inserted = await backfillFollow(tx, b.id, a.id, 50);
      await held.wait; // the projector's transaction is still open
    });
    while (inserted === 0) await Bun.sleep(5);
    let unfollowed = false;
    const unfollow = db.sql
      .begin((tx) => deleteFollow(tx, b.id, a.id))
      .then(() => {
        unfollowed = true;
      });
    await Bun.sleep(100);
    expect(unfollowed).toBe(false); // waits for the backfill's lock on the follow row
    held.open();
    await backfill;
    await unfollow;
    await removeAuthorFromFeed(db.sql, b.id, a.id); // the UserUnfollowed handler
    const left = await db.sql`SELECT count(*)::int AS n FROM user_feed WHERE user_id = ${b.id}`;
    expect(left[0]?.n).toBe(0);
  });

  test("an unfollow waits for the author's fan-out batch in flight; a batch after it skips the follower", async () => {
    const { fanOutBatch, removeAuthorFromFeed } = await import("./projections.ts");
    const { deleteFollow, insertFollow } = await import("./graph.ts");
    await db.reset();
    const [author, fan, other] = [await db.makeUser(), await db.makeUser(), await db.makeUser()];
    await insertFollow(db.sql, fan.id, author.id);
    await insertFollow(db.sql, other.id, author.id);
    const first = await db.makePost(author, { text: "first" });
    const second = await db.makePost(author, { text: "second" });
    const batch = (tx: Tx, postId: string) =>
      fanOutBatch(tx, { postId, authorId: author.id, afterFollower: "0", limit: 100 });

    const held = gate();
    let inserted = -1;
    const fanout = db.sql.begin(async (tx) => {
      inserted = (await batch(tx, first.id)).inserted;
      await held.wait; // the batch's transaction is still open
    });
    while (inserted < 0) await Bun.sleep(5);
    expect(inserted).toBe(2);
    let unfollowed = false;
    const unfollow = db.sql
      .begin((tx) => deleteFollow(tx, fan.id, author.id))
      .then(() => {
        unfollowed = true;
      });
    await Bun.sleep(100);
    expect(unfollowed).toBe(false); // waits for the batch's shared lock on the author
    held.open();
    await fanout;
    await unfollow;
    await removeAuthorFromFeed(db.sql, fan.id, author.id); // the UserUnfollowed handler
    // The next post's batch no longer sees the follow.
    const after = await db.sql.begin((tx) => batch(tx, second.id));
    expect(after.followers).toEqual([other.id]);
    const left = await db.sql`SELECT count(*)::int AS n FROM user_feed WHERE user_id = ${fan.id}`;
    expect(left[0]?.n).toBe(0);
  });

  test("likes rows per post (what the read model's counts are checked against)", async () => {
    const { insertLike, likeRowCounts } = await import("./graph.ts");
    await db.reset();
    const [a, b] = [await db.makeUser(), await db.makeUser()];
    const p1 = await db.makePost(a, { text: "one" });
    const p2 = await db.makePost(a, { text: "two" });
    await insertLike(db.sql, a.id, p1.id);
    await insertLike(db.sql, b.id, p1.id);
    expect(await likeRowCounts(db.sql, [])).toEqual(new Map());
    expect(await likeRowCounts(db.sql, [p1.id, p2.id])).toEqual(new Map([[p1.id, 2]]));
  });

  test("the api's client plans its statements generically, without parallel workers", async () => {
    const generic = createSql({ url: db.config.DATABASE_URL, max: 1, genericPlans: true, serial: true });
    try {
      const [g] = await generic`SHOW plan_cache_mode`;
      expect(g!.plan_cache_mode).toBe("force_generic_plan");
      const [w] = await generic`SHOW max_parallel_workers_per_gather`;
      expect(w!.max_parallel_workers_per_gather).toBe("0");
      const [d] = await db.sql`SHOW plan_cache_mode`;
      expect(d!.plan_cache_mode).toBe("auto");
    } finally {
      await generic.end();
    }
  });
});
