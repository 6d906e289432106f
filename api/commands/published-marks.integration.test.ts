import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { openTestDb, type TestDb, waitFor } from "../../db/testing.ts";
import { startTestProjector } from "../../projector/testing.ts";
import { testApp } from "../testing.ts";
import { PublishedMarks } from "./run-command.ts";

// The api marks the outbox rows it published in batches (main.ts), not with one UPDATE and
// commit per command; a mark that never comes is repaired by the sweeper publishing again.

let db: TestDb;
beforeAll(async () => {
  // The sweeper looks often (its grace is stepped over by backdating rows).
  db = await openTestDb({ SWEEP_INTERVAL_MS: "100" });
  await db.reset();
});
afterAll(async () => {
  await db.close();
});

const unpublished = async () =>
  (await db.sql`SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`)[0]!.n as number;

describe("published marks", () => {
  test("commands publish at once and their rows are marked together, in one statement", async () => {
    // Flushed by the test, never by the timer.
    const marks = new PublishedMarks({ ...db, config: { ...db.config, OUTBOX_MARK_FLUSH_MS: 10_000 } });
    const api = testApp(db, {}, { publishedMarks: marks });
    const u = await db.makeUser();
    for (let i = 0; i < 5; i++) {
      db.resetCount();
      const r = await api.call("POST", "/posts", {
        token: u.token,
        json: { text: `post ${i}` },
        headers: { "idempotency-key": crypto.randomUUID() },
      });
      expect(r.status).toBe(201);
      // The command's one statement, and no UPDATE after the XADD (the first request also
      // loads the user's card).
      if (i > 0) expect(db.queryCount()).toBe(1);
    }
    expect(await unpublished()).toBe(5);
    db.resetCount();
    await marks.flush();
    expect(db.queryCount()).toBe(1);
    expect(await unpublished()).toBe(0);
  });

  test("a mark lost with its process: the sweeper publishes the row again, and nothing doubles", async () => {
    const marks = new PublishedMarks({ ...db, config: { ...db.config, OUTBOX_MARK_FLUSH_MS: 10_000 } });
    const api = testApp(db, {}, { publishedMarks: marks });
    const author = await db.makeUser();
    const reader = await db.makeUser();
    await api.call("POST", "/follows", { token: reader.token, json: { user_id: author.id } });
    const r = await api.call("POST", "/posts", {
      token: author.token,
      json: { text: "published, never marked" },
      headers: { "idempotency-key": crypto.randomUUID() },
    });
    expect(r.status).toBe(201);
    // The process dies here: its marks are never written. The projector handles the event from
    // the stream, and its sweeper publishes the row again once OUTBOX_GRACE_MS has passed.
    await db.sql`UPDATE outbox SET created_at = created_at - interval '1 hour' WHERE published_at IS NULL`;
    const proj = await startTestProjector(db);
    await waitFor(async () => (await unpublished()) === 0, 10_000, "the sweeper to publish the row again");
    await proj.settle();
    await proj.stop();
    const rows =
      await db.sql`SELECT 1 FROM user_feed WHERE user_id = ${reader.id} AND post_id = ${r.body.id}`;
    expect(rows.length).toBe(1);
    const [stats] = await db.sql<{ posts_count: number }[]>`
      SELECT posts_count::int FROM user_stats WHERE user_id = ${author.id}`;
    expect(stats?.posts_count).toBe(1);
  });
});
