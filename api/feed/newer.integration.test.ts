import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { openTestDb, type TestDb } from "../../db/testing.ts";
import { startTestProjector } from "../../projector/testing.ts";
import { testApp } from "../testing.ts";

// Newer-ward paging (after=) beside older-ward paging (cursor=), on the feed (pushed and pulled
// authors merged) and on a user's posts: while posts keep arriving, a client that pages both
// ways sees every post exactly once.

let db: TestDb;
beforeAll(async () => {
  // Authors with more than 1 follower are pulled at read time: the feed below merges both kinds.
  db = await openTestDb({ STREAM_PARTITIONS: "2", FANOUT_PULL_THRESHOLD: "1" });
  await db.reset();
});
afterAll(async () => {
  await db.close();
});

type Page = {
  items: { id: string }[];
  next_cursor: string | null;
  prev_cursor: string | null;
  has_newer: boolean;
};

describe("after= and cursor= together", () => {
  test("no post skipped or seen twice, on the feed and on a user's posts, while posts arrive", async () => {
    const api = testApp(db);
    const proj = await startTestProjector(db);
    const [reader, other, pushed, pulled] = [
      await db.makeUser(),
      await db.makeUser(),
      await db.makeUser(),
      await db.makeUser(),
    ];
    for (const f of [reader, other])
      await api.call("POST", "/follows", { token: f.token, json: { user_id: pulled.id } });
    await api.call("POST", "/follows", { token: reader.token, json: { user_id: pushed.id } });
    const made: string[] = [];
    const post = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const author = made.length % 2 === 0 ? pushed : pulled;
        const r = await api.call("POST", "/posts", {
          token: author.token,
          json: { text: `p${made.length}` },
          headers: { "idempotency-key": crypto.randomUUID() },
        });
        made.push(r.body.id);
      }
      await proj.settle();
    };
    const get = async (path: string): Promise<Page> => {
      const r = await api.call("GET", path, { token: reader.token });
      expect([path, r.status]).toEqual([path, 200]);
      return r.body as Page;
    };

    await post(7);
    for (const [list, expected] of [
      ["/feed", () => made],
      [`/users/${pushed.id}/posts`, () => made.filter((_, i) => i % 2 === 0)],
    ] as const) {
      const seen: string[] = [];
      // The first page, then one older.
      const first = await get(`${list}?limit=2`);
      seen.push(...first.items.map((p) => p.id));
      expect(first.has_newer).toBe(false);
      expect(first.prev_cursor).toBeTruthy();
      let older = first.next_cursor;
      let newer = first.prev_cursor!;
      const o1 = await get(`${list}?limit=2&cursor=${older}`);
      seen.push(...o1.items.map((p) => p.id));
      older = o1.next_cursor;
      // Posts arrive; the client pulls newer pages (oldest first among them, each newest first).
      await post(7);
      for (;;) {
        const p = await get(`${list}?limit=2&after=${newer}`);
        const ids = p.items.map((x) => x.id);
        // Newest first within the page.
        expect(ids).toEqual([...ids].sort((a, b) => (BigInt(a) > BigInt(b) ? -1 : 1)));
        seen.push(...ids);
        newer = p.prev_cursor!;
        if (!p.has_newer) {
          // Caught up: asking again gives nothing, and keeps the place.
          const again = await get(`${list}?limit=2&after=${newer}`);
          expect(again.items).toEqual([]);
          expect(again.prev_cursor).toBe(newer);
          break;
        }
      }
      // More arrive; older paging goes on to the end.
      await post(2);
      while (older) {
        const p = await get(`${list}?limit=2&cursor=${older}`);
        seen.push(...p.items.map((x) => x.id));
        older = p.next_cursor;
      }
      const last = await get(`${list}?limit=50&after=${newer}`);
      seen.push(...last.items.map((x) => x.id));
      expect(last.has_newer).toBe(false);

      expect(seen.length).toBe(new Set(seen).size); // nothing twice
      expect([...seen].sort()).toEqual([...expected()].sort()); // nothing skipped
    }
    await proj.stop();
  });

  test("cursor and after together, or a bad after, are 400 problems", async () => {
    const api = testApp(db);
    const u = await db.makeUser();
    const page = (await api.call("GET", "/feed?limit=1", { token: u.token })).body as Page;
    expect(page.prev_cursor).toBeNull();
    const feedCursor = Buffer.from("feed.1.7312950014423042").toString("base64url");
    for (const [path, code] of [
      [`/feed?cursor=${feedCursor}&after=${feedCursor}`, "validation_failed"],
      [`/users/${u.id}/posts?cursor=x&after=y`, "validation_failed"],
      ["/feed?after=%%%", "invalid_cursor"],
      ["/feed?after=bm90LWEtY3Vyc29y", "invalid_cursor"],
      [`/users/${u.id}/posts?after=${feedCursor}`, "invalid_cursor"],
    ] as const) {
      const r = await api.call("GET", path, { token: u.token });
      expect([path, r.status, r.body.code]).toEqual([path, 400, code]);
    }
  });
});
