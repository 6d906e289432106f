import { afterAll, beforeAll, beforeEach, expect, test } from "bun:test";
import { sweepAwayReaders, touchReaders } from "./feed.ts";
import { deleteFollow, insertFollow } from "./graph.ts";
import { fanOutBatch } from "./projections.ts";
import { openTestDb, type TestDb } from "./testing.ts";

// active_follows (sql/0013) must always equal its definition: the follows whose follower is not
// away. Fan-out writes only for its rows, so a missing row is a post missing from a feed.

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb();
});
beforeEach(async () => {
  await db.reset();
});
afterAll(async () => {
  await db.close();
});

const DAYS = 7;

/** [active_follows as stored, as defined], each as sorted "followee>follower" strings. */
async function storedAndDefined(): Promise<[string[], string[]]> {
  const stored = await db.sql<{ k: string }[]>`
    SELECT followee_id || '>' || follower_id AS k FROM active_follows ORDER BY 1`;
  const defined = await db.sql<{ k: string }[]>`
    SELECT f.followee_id || '>' || f.follower_id AS k FROM follows f
    WHERE NOT EXISTS (SELECT 1 FROM feed_readers r WHERE r.user_id = f.follower_id AND r.away)
    ORDER BY 1`;
  return [stored.map((r) => r.k), defined.map((r) => r.k)];
}

async function expectExact(): Promise<string[]> {
  const [stored, defined] = await storedAndDefined();
  expect(stored).toEqual(defined);
  return stored;
}

const idle = (userId: string, days: number) =>
  db.sql`UPDATE feed_readers SET last_read_at = now() - make_interval(days => ${days}) WHERE user_id = ${userId}`;

test("the active follows stay exact as readers follow, go away, come back and unfollow", async () => {
  const [author, never, reader, other] = [
    await db.makeUser(),
    await db.makeUser(),
    await db.makeUser(),
    await db.makeUser(),
  ];
  // A follower who never read counts as active.
  await insertFollow(db.sql, never.id, author.id);
  await touchReaders(db.sql, [reader.id, other.id]);
  await insertFollow(db.sql, reader.id, author.id);
  await insertFollow(db.sql, other.id, author.id);
  await insertFollow(db.sql, reader.id, other.id);
  expect(await expectExact()).toHaveLength(4);

  // Idle past FEED_ACTIVE_DAYS: the sweep takes all of the reader's follows out, nobody else's.
  await idle(reader.id, DAYS + 1);
  await idle(other.id, DAYS - 1);
  expect(await sweepAwayReaders(db.sql, DAYS, 100)).toBe(1);
  expect(await sweepAwayReaders(db.sql, DAYS, 100)).toBe(0);
  // Sorted as expectExact sorts: ids from random shards are not in creation order.
  expect(await expectExact()).toEqual([`${author.id}>${never.id}`, `${author.id}>${other.id}`].sort());

  // An away reader's new follow gets no row; fan-out skips them.
  const late = await db.makeUser();
  await insertFollow(db.sql, reader.id, late.id);
  await expectExact();
  const post = await db.sql.begin((tx) =>
    fanOutBatch(tx, { postId: "4194304001", authorId: author.id, afterFollower: "0", limit: 100 }),
  );
  expect(post.followers.sort()).toEqual([never.id, other.id].sort());

  // Back: returning (their feed is rebuilt), and every follow of theirs is active again.
  expect(await touchReaders(db.sql, [reader.id], DAYS)).toEqual([
    { user_id: reader.id, away: true, idle: true },
  ]);
  expect(await expectExact()).toHaveLength(5);
  expect(await touchReaders(db.sql, [reader.id], DAYS)).toEqual([
    { user_id: reader.id, away: false, idle: false },
  ]);

  // A reader marked away under a shorter setting is away, though not idle under this one.
  await idle(other.id, DAYS + 1);
  await sweepAwayReaders(db.sql, DAYS, 100);
  await idle(other.id, 1);
  expect(await touchReaders(db.sql, [other.id], 30)).toEqual([
    { user_id: other.id, away: true, idle: false },
  ]);

  await db.sql.begin((tx) => deleteFollow(tx, reader.id, author.id));
  expect(await expectExact()).toHaveLength(4);
});

test("sweeps racing reads of the day and follows leave the set exact", async () => {
  const authors = [await db.makeUser(), await db.makeUser(), await db.makeUser()];
  const readers = [await db.makeUser(), await db.makeUser(), await db.makeUser(), await db.makeUser()];
  await touchReaders(
    db.sql,
    readers.map((r) => r.id),
  );
  for (const r of readers) await insertFollow(db.sql, r.id, authors[0]!.id);
  for (let round = 0; round < 15; round++) {
    for (const r of readers) await idle(r.id, DAYS + 1);
    const a = authors[1 + (round % 2)]!;
    await Promise.all([
      sweepAwayReaders(db.sql, DAYS, 2),
      sweepAwayReaders(db.sql, DAYS, 2),
      touchReaders(db.sql, [readers[round % 4]!.id]),
      touchReaders(db.sql, [readers[(round + 1) % 4]!.id], DAYS),
      insertFollow(db.sql, readers[(round + 2) % 4]!.id, a.id),
      db.sql.begin((tx) => deleteFollow(tx, readers[(round + 3) % 4]!.id, a.id)),
    ]);
    await expectExact();
  }
});
