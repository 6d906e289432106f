import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import sharp from "sharp";
import { openTestDb, type TestDb, waitFor } from "../../db/testing.ts";
import { startTestProjector } from "../../projector/testing.ts";
import { createApp } from "../app.ts";
import { createApiMetrics } from "../metrics.ts";
import { serveApi } from "../server.ts";
import { spawnApi, startTestS3 } from "../testing.ts";
import { createMemoryCache } from "./memory.ts";

// The process's memory cache across processes and over HTTP: two real api processes that both
// keep a post and its author in memory; an avatar replaced through one is served by the other
// within a second (the invalidation channel). And GET /feed's ETag: 304 for the same page, a new
// tag once the page changes.

const S3_PORT = 9613;
let s3: Awaited<ReturnType<typeof startTestS3>>;
let db: TestDb;
const procs: ReturnType<typeof Bun.spawn>[] = [];

beforeAll(async () => {
  s3 = await startTestS3(S3_PORT, "feed-memory");
  db = await openTestDb();
  await db.reset();
});
afterAll(async () => {
  for (const p of procs) p.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
  await db.close();
  await s3.close();
});

async function startApi(): Promise<string> {
  const api = await spawnApi(db, s3.env);
  procs.push(api.proc);
  return api.base;
}

describe("memory across api processes", () => {
  test("an avatar replaced through one process is served by the other within a second", async () => {
    const [one, two] = await Promise.all([startApi(), startApi()]);
    const author = await db.makeUser();
    const post = await db.makePost(author, { text: "hello" });
    const get = async (base: string) => {
      const res = await fetch(`${base}/posts/${post.id}`, {
        headers: { authorization: `Bearer ${author.token}` },
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { author: { avatar_url: string | null } }).author.avatar_url;
    };
    const avatar = async (color: string) => {
      const form = new FormData();
      const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: color } })
        .png()
        .toBuffer();
      form.append("file", new File([png], "a.png", { type: "image/png" }));
      const res = await fetch(`${one}/me/avatar`, {
        method: "PUT",
        headers: { authorization: `Bearer ${author.token}` },
        body: form,
      });
      expect(res.status).toBe(200);
      return new URL(((await res.json()) as { avatar_url: string }).avatar_url).pathname;
    };
    // Both processes read the post and its author, and keep them in memory.
    expect(await get(one)).toBeNull();
    expect(await get(two)).toBeNull();
    const first = await avatar("#f00");
    await waitFor(
      async () => new URL((await get(two))!).pathname === first,
      1000,
      "process two to serve the avatar",
    );
    const second = await avatar("#0f0");
    expect(second).not.toBe(first);
    await waitFor(
      async () => new URL((await get(two))!).pathname === second,
      1000,
      "process two to serve the replaced avatar",
    );
  }, 60_000);
});

describe("GET /feed over HTTP", () => {
  test("an ETag; If-None-Match with it answers 304 without a body; a changed page has another", async () => {
    const deps = {
      sql: db.sql,
      redis: db.redis,
      config: db.config,
      metrics: createApiMetrics(),
      memory: createMemoryCache(db.config),
    };
    await deps.memory.subscribe(db.redis);
    const api = serveApi(createApp(deps), deps, { port: 0, hostname: "127.0.0.1", log: () => {} });
    const projector = await startTestProjector(db);
    const base = `http://127.0.0.1:${api.server.port}`;
    try {
      const reader = await db.makeUser();
      const feed = (headers: Record<string, string> = {}) =>
        fetch(`${base}/feed?limit=5`, { headers: { authorization: `Bearer ${reader.token}`, ...headers } });
      const first = await feed();
      expect(first.status).toBe(200);
      const tag = first.headers.get("etag");
      expect(tag).toMatch(/^"[0-9a-z]+"$/);
      expect(await first.json()).toEqual({
        items: [],
        next_cursor: null,
        prev_cursor: null,
        has_newer: false,
      });
      const again = await feed({ "if-none-match": tag! });
      expect(again.status).toBe(304);
      expect(await again.text()).toBe("");
      expect(again.headers.get("etag")).toBe(tag);
      // Weak comparison (RFC 9110 §13.1.2) and lists, as browsers and proxies send them.
      expect((await feed({ "if-none-match": `"other", W/${tag}` })).status).toBe(304);
      // The reader's own post is in their feed: the page and its tag change.
      const posted = await fetch(`${base}/posts`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${reader.token}`,
          "content-type": "application/json",
          "idempotency-key": crypto.randomUUID(),
        },
        body: JSON.stringify({ text: "new" }),
      });
      expect(posted.status).toBe(201);
      const { id } = (await posted.json()) as { id: string };
      await waitFor(
        async () => {
          const res = await feed({ "if-none-match": tag! });
          if (res.status !== 200) return false;
          const page = (await res.json()) as { items: { id: string }[] };
          return page.items.some((p) => p.id === id) && res.headers.get("etag") !== tag;
        },
        5000,
        "the new post to change the page",
      );
    } finally {
      await projector.stop();
      await api.server.stop(true);
      deps.memory.close();
    }
  });
});
