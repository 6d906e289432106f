import { describe, expect, test } from "bun:test";
import type { CachedPost, CachedUser } from "../../core/cache.ts";
import { parseConfig } from "../../core/config.ts";
import { createStorage } from "../../core/storage.ts";
import type { Deps } from "../deps.ts";
import { createMemoryCache } from "./memory.ts";
import { signedUrls } from "./present.ts";

// The staleness bounds of the process's caches: bodies and users live at most
// MEMORY_CACHE_TTL_SECONDS whatever else happens; an invalidation drops them at once; a fill
// that raced with an invalidation is not stored; a presigned URL is reused for a third of its
// lifetime and then signed anew.

const config = parseConfig({ MEMORY_CACHE_TTL_SECONDS: "60", MEDIA_URL_TTL_SECONDS: "900" });
const post: CachedPost = {
  id: "11",
  author_id: "7",
  text: "hi",
  image_key: null,
  image_width: null,
  image_height: null,
};
const user: CachedUser = {
  id: "7",
  handle: "u",
  display_name: "U",
  avatar_key: null,
  avatar_thumb_key: null,
};

describe("memory cache", () => {
  test("an entry lives at most MEMORY_CACHE_TTL_SECONDS (the bound if an invalidation is lost)", () => {
    let now = 1_000;
    const m = createMemoryCache(config, { now: () => now });
    m.posts.set(post.id, post);
    m.users.set(user.id, user);
    now += 59_999;
    expect(m.posts.get(post.id)).toBe(post);
    expect(m.users.get(user.id)).toBe(user);
    now += 2;
    expect(m.posts.get(post.id)).toBeUndefined();
    expect(m.users.get(user.id)).toBeUndefined();
  });

  test("invalidations drop a post (and its rendered JSON), a user or an author's posts; anything else empties all", () => {
    const m = createMemoryCache(config);
    m.posts.set(post.id, post);
    m.rendered.set(post.id, { post, author: user, json: "{", until: Number.POSITIVE_INFINITY });
    m.users.set(user.id, user);
    m.invalidate(`p:${post.id}`);
    expect(m.posts.get(post.id)).toBeUndefined();
    expect(m.rendered.get(post.id)).toBeUndefined();
    expect(m.users.get(user.id)).toBe(user);
    m.invalidate(`u:${user.id}`);
    expect(m.users.get(user.id)).toBeUndefined();
    m.authorPosts.set(user.id, { ids: [post.id] });
    m.invalidate(`a:${user.id}`);
    expect(m.authorPosts.get(user.id)).toBeUndefined();
    m.authorPosts.set(user.id, { ids: [post.id] });
    m.posts.set(post.id, post);
    m.invalidate("?");
    expect(m.posts.size).toBe(0);
    expect(m.authorPosts.size).toBe(0);
  });

  test("a fill that began before an invalidation is not stored", () => {
    const m = createMemoryCache(config);
    const since = m.generation();
    m.invalidate(`u:${user.id}`); // arrives while the fill's read is in flight
    m.fill(m.users, since, user.id, user);
    expect(m.users.get(user.id)).toBeUndefined();
    m.fill(m.users, m.generation(), user.id, user);
    expect(m.users.get(user.id)).toBe(user);
  });

  test("nothing is served from memory before it is subscribed to invalidations", () => {
    expect(createMemoryCache(config).subscribed()).toBe(false);
  });
});

describe("presigned URLs", () => {
  // Presigning is computed locally: no S3 is contacted.
  const storage = createStorage(
    parseConfig({
      S3_ENDPOINT: "http://127.0.0.1:1",
      S3_KEY: "k",
      S3_SECRET: "s",
      MEDIA_URL_TTL_SECONDS: "900",
    }),
  )!;

  test("are signed once and reused for a third of their lifetime, then signed anew", async () => {
    const memory = createMemoryCache(config);
    const deps = { config, storage, memory } as unknown as Deps;
    const before = Date.now();
    const a = await signedUrls(deps, ["users/7/a.png", null, "users/7/a.png"]);
    expect(a.urls.size).toBe(1);
    expect(a.until).toBeGreaterThanOrEqual(before + 300_000);
    expect(a.until).toBeLessThanOrEqual(Date.now() + 300_000);
    const url = a.urls.get("users/7/a.png")!;
    expect(new URL(url).searchParams.get("X-Amz-Expires")).toBe("900");
    await Bun.sleep(1100); // a new signature would carry another X-Amz-Date
    expect((await signedUrls(deps, ["users/7/a.png"])).urls.get("users/7/a.png")).toBe(url);
    // Past its reuse: signed again.
    memory.urls.set("users/7/a.png", { url, until: Date.now() - 1 });
    expect((await signedUrls(deps, ["users/7/a.png"])).urls.get("users/7/a.png")).not.toBe(url);
    // Without a memory cache every call signs.
    const bare = { config, storage } as unknown as Deps;
    expect((await signedUrls(bare, [])).until).toBe(Number.POSITIVE_INFINITY);
  });
});
