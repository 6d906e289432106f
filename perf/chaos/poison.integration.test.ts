import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventEnvelope } from "../../core/events.ts";
import { insertLike } from "../../db/graph.ts";
import { insertOutbox, markPublished, unpublishedCount } from "../../db/outbox.ts";
import { insertOwnFeedItem } from "../../db/projections.ts";
import { likedPostsOf, postCountsByText } from "../../db/reconcile.ts";
import { openTestDb, type TestDb } from "../../db/testing.ts";
import { installPoison, removePoison } from "./poison.ts";

// The chaos suite's database helpers (perf/chaos/run.ts): the poison it injects and removes,
// and the counts it checks with.

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(async () => {
  await removePoison(db.sql);
  await db.close();
});

describe("poison", () => {
  test("feed rows of the poisoned author are refused until the poison is removed; others pass", async () => {
    const victim = await db.makeUser();
    const other = await db.makeUser();
    const p = await db.makePost(victim, { text: "poisoned" });
    const q = await db.makePost(other, { text: "fine" });
    await installPoison(db.sql, victim.id);
    await installPoison(db.sql, victim.id); // twice is fine
    await expect(insertOwnFeedItem(db.sql, p.id, victim.id)).rejects.toThrow(/chaos poison/);
    await insertOwnFeedItem(db.sql, q.id, other.id);
    await removePoison(db.sql);
    await insertOwnFeedItem(db.sql, p.id, victim.id);
    const rows = await db.sql`SELECT 1 FROM user_feed WHERE user_id = ${victim.id} AND post_id = ${p.id}`;
    expect(rows.length).toBe(1);
  });
});

describe("counts", () => {
  test("posts per text under a prefix; unpublished outbox rows", async () => {
    await db.reset();
    const u = await db.makeUser();
    await db.makePost(u, { text: "run-1 #1" });
    await db.makePost(u, { text: "run-1 #2" });
    await db.makePost(u, { text: "run-1 #2" });
    await db.makePost(u, { text: "run-2 #1" });
    expect([...(await postCountsByText(db.sql, "run-1 #"))].sort()).toEqual([
      ["run-1 #1", 1],
      ["run-1 #2", 2],
    ]);
    const v = await db.makeUser();
    const liked = await db.makePost(u, { text: "run-3 #1" });
    await insertLike(db.sql, v.id, liked.id);
    expect(await likedPostsOf(db.sql, [u.id, v.id])).toEqual(
      new Map([
        [u.id, new Set<string>()],
        [v.id, new Set([liked.id])],
      ]),
    );
    expect(await unpublishedCount(db.sql)).toBe(0);
    const row = await insertOutbox(db.sql, {
      shard: 1,
      stream: "feed:events:{0}",
      event: eventEnvelope(
        {
          type: "PostCreated",
          actorId: u.id,
          payload: { post_id: liked.id, author_id: u.id, created_at: "" },
        },
        new Date(),
      ),
    });
    expect(await unpublishedCount(db.sql)).toBe(1);
    await markPublished(db.sql, [row.id]);
    expect(await unpublishedCount(db.sql)).toBe(0);
  });
});
