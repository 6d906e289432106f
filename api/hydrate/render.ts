import type { Deps } from "../deps.ts";
import type { ResponseSet } from "../schemas.ts";
import type { HydratedPost } from "./hydrate-posts.ts";
import { liveMemory } from "./memory.ts";
import { postMediaKeys, presentPost, signedUrls, userMediaKeys } from "./present.ts";

// Posts as JSON text, assembled rather than encoded per request: each post's JSON up to its two
// fields that change (like_count, liked_by_me) is rendered once per body, author and media URLs
// and kept in the process (memory.rendered); a page is then concatenation. The shapes are
// presentPost's, so /openapi.json's PostSchema stays the contract (checked against real answers
// by api/contract.integration.test.ts, not on every request).

/** `{…,"image":…,` : a post's JSON with its last two fields cut off, ready for them. */
function prefixOf(json: string): string {
  const cut = json.lastIndexOf(',"like_count":');
  return json.slice(0, cut + 1);
}

export async function renderPosts(deps: Deps, posts: readonly HydratedPost[]): Promise<string[]> {
  const memory = liveMemory(deps);
  const now = Date.now();
  const prefixes: (string | null)[] = posts.map((h) => {
    // peek: no reordering on a hit (the body's own lookup already keeps it recent).
    const r = memory?.rendered.peek(h.post.id);
    // Valid for the very body and author objects it was made of: a dropped and refetched one is
    // another object, and so is a changed one.
    return r && r.post === h.post && r.author === h.author && r.until > now ? r.json : null;
  });
  const stale = posts.filter((_, i) => prefixes[i] === null);
  if (stale.length) {
    const { urls, until } = await signedUrls(
      deps,
      stale.flatMap((h) => [...userMediaKeys(h.author), ...postMediaKeys(h.post)]),
    );
    for (let i = 0; i < posts.length; i++) {
      if (prefixes[i] !== null) continue;
      const h = posts[i]!;
      // like_count 0 and liked_by_me false only to fix the shape; they are cut off again.
      const json = prefixOf(
        JSON.stringify(presentPost(h.post, h.author, { ...h, likeCount: 0, likedByMe: false }, urls)),
      );
      prefixes[i] = json;
      // A post without media needs no URL: its JSON keeps until its body or author changes.
      const hasMedia = [...userMediaKeys(h.author), ...postMediaKeys(h.post)].some(Boolean);
      memory?.rendered.set(h.post.id, {
        post: h.post,
        author: h.author,
        json,
        until: hasMedia ? until : Number.POSITIVE_INFINITY,
      });
    }
  }
  return posts.map((h, i) => `${prefixes[i]}"like_count":${h.likeCount},"liked_by_me":${h.likedByMe}}`);
}

/** A page of rendered posts: `{"items":[…],"next_cursor":…,"prev_cursor":…,"has_newer":…}`. */
export function renderPage(
  items: readonly string[],
  nextCursor: string | null,
  prevCursor: string | null = null,
  hasNewer = false,
): string {
  const str = (s: string | null) => (s === null ? "null" : JSON.stringify(s));
  return `{"items":[${items.join(",")}],"next_cursor":${str(nextCursor)},"prev_cursor":${str(prevCursor)},"has_newer":${hasNewer}}`;
}

/**
 * A JSON answer from ready text, with a strong ETag (a 64-bit hash of the bytes): a client that
 * sends it back in If-None-Match gets 304 and no body when nothing changed. The headers the
 * plugins have set so far are taken into the Response and `set` is left empty: otherwise Elysia
 * builds a second Response to merge them in (4% of a cached read's CPU).
 */
export function jsonWithEtag(request: Request, set: ResponseSet, body: string): Response {
  const etag = `"${Bun.hash.xxHash3(body).toString(36)}"`;
  const headers = set.headers as Record<string, string>;
  set.headers = {};
  headers.etag = etag;
  const match = request.headers.get("if-none-match");
  if (match?.split(",").some((t) => t.trim().replace(/^W\//, "") === etag))
    return new Response(null, { status: 304, headers });
  headers["content-type"] = "application/json";
  return new Response(body, { headers });
}
