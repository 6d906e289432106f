import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import type { FeedEvent } from "../../core/events.ts";
import { keys } from "../../core/redis-keys.ts";
import { publishEvents } from "../../core/streams.ts";
import { openTestDb, type TestDb } from "../../db/testing.ts";
import { listDeadLetters, replayDeadLetters } from "../dlq.ts";
import { startTestProjector } from "../testing.ts";

// Handlers not covered by the pipeline test, the projector's metrics as Prometheus scrapes
// them, and dead-letter replay of one entry.

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb({ STREAM_PARTITIONS: "2", MAX_DELIVERIES: "1" });
});
afterAll(async () => {
  await db.close();
});
beforeEach(async () => {
  await db.reset();
});

const envelope = (id: string, actor: string) => ({
  id,
  version: 1 as const,
  occurred_at: new Date().toISOString(),
  actor_id: actor,
});

describe("media and registration events (projector group)", () => {
  test("UserRegistered starts the counters; PostImageUploaded and AvatarUpdated drop the stale cached cards", async () => {
    const p = await startTestProjector(db);
    const u = await db.makeUser();
    await db.redis.set(keys.user(u.id), "stale", "EX", 60);
    await db.redis.set(keys.post("77"), "stale", "EX", 60);
    const events: FeedEvent[] = [
      { ...envelope("9001", u.id), type: "UserRegistered", payload: { user_id: u.id, handle: u.handle } },
      {
        ...envelope("9002", u.id),
        type: "AvatarUpdated",
        payload: { user_id: u.id, key: `users/${u.id}/avatars/a.webp`, previous_key: null },
      },
      {
        ...envelope("9003", u.id),
        type: "PostImageUploaded",
        payload: { post_id: "77", author_id: u.id, key: "posts/77/b.webp", previous_key: null },
      },
    ];
    await publishEvents(
      db.redis,
      events.map((e) => ({ stream: keys.stream(0), event: e })),
    );
    await p.settle();
    const [stats] =
      await db.sql`SELECT followers_count::int, posts_count::int FROM user_stats WHERE user_id = ${u.id}`;
    expect(stats).toEqual({ followers_count: 0, posts_count: 0 });
    expect(await db.redis.exists(keys.user(u.id))).toBe(0);
    expect(await db.redis.exists(keys.post("77"))).toBe(0);
    await p.stop();
  });
});

describe("projector metrics", () => {
  test("a scrape reports events by outcome, backlog per group and the DLQ size", async () => {
    const p = await startTestProjector(db);
    const u = await db.makeUser();
    await publishEvents(db.redis, [
      {
        stream: keys.stream(1),
        event: {
          ...envelope("9100", u.id),
          type: "UserRegistered",
          payload: { user_id: u.id, handle: u.handle },
        },
      },
    ]);
    await db.redis.xadd(keys.stream(0), "*", "id", "9101", "type", "PostCreated", "event", "{broken");
    await p.settle();
    const text = await p.metrics.registry.metrics();
    expect(text).toContain('projector_events_total{group="projector",type="UserRegistered",outcome="ok"} 1');
    expect(text).toContain('projector_events_total{group="projector",type="PostCreated",outcome="dead"} 1');
    expect(text).toContain('stream_pending_entries{group="projector"} 0');
    expect(text).toContain('stream_lag_entries{group="projector"} 0');
    expect(text).toContain("dlq_entries 1");
    expect(text).toContain('projector_event_lag_seconds_count{group="projector",type="UserRegistered"} 1');
    await p.stop();
  });
});

describe("dead-letter replay", () => {
  test("replays one entry by its event id and reports when nothing matches", async () => {
    const p = await startTestProjector(db);
    // A malformed entry goes to the DLQ at once.
    await db.redis.xadd(keys.stream(0), "*", "id", "9200", "type", "UserRegistered", "event", "{broken");
    await p.settle();
    const [dead] = await listDeadLetters(db.redis);
    expect(dead?.event_id).toBe("9200");
    // Stopped while replaying: a running projector would dead-letter it again at once.
    await p.stop();
    expect(await replayDeadLetters(db.redis, "no-such-id")).toBe(0);
    expect(await replayDeadLetters(db.redis, dead!.dlq_id)).toBe(1);
    expect(await listDeadLetters(db.redis)).toHaveLength(0);
    // Still broken: it comes back to the DLQ, once.
    const again = await startTestProjector(db);
    await again.settle();
    expect(await listDeadLetters(db.redis)).toHaveLength(1);
    await again.stop();
  });
});
