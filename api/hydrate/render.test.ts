import { describe, expect, test } from "bun:test";
import { jsonWithEtag, renderPage } from "./render.ts";

// Pages are assembled from each post's rendered JSON (render.ts): they must be the JSON they
// stand for, non-ASCII text included.

const post = (o: Record<string, unknown>, likeCount: number, likedByMe: boolean) =>
  JSON.stringify({ ...o, like_count: likeCount, liked_by_me: likedByMe });

describe("renderPage", () => {
  test("is the page's JSON, with each post's counts and flags and the cursor", () => {
    const items = [
      post({ id: "1", text: 'héllo ✓ 🎉 "quoted"\n' }, 3, true),
      post({ id: "2", text: "" }, 0, false),
    ];
    const page = JSON.parse(renderPage(items, "ZmVlZC4xLjI"));
    expect(page).toEqual({
      items: [
        { id: "1", text: 'héllo ✓ 🎉 "quoted"\n', like_count: 3, liked_by_me: true },
        { id: "2", text: "", like_count: 0, liked_by_me: false },
      ],
      next_cursor: "ZmVlZC4xLjI",
      prev_cursor: null,
      has_newer: false,
    });
    expect(JSON.parse(renderPage([], null))).toEqual({
      items: [],
      next_cursor: null,
      prev_cursor: null,
      has_newer: false,
    });
    expect(JSON.parse(renderPage([], "b", "a", true))).toMatchObject({
      next_cursor: "b",
      prev_cursor: "a",
      has_newer: true,
    });
  });

  test("the ETag follows the bytes; If-None-Match with it answers 304 and keeps the headers set before", async () => {
    const body = renderPage([], null);
    const set = { headers: { "x-frame-options": "DENY" } as Record<string, string | number> };
    const first = jsonWithEtag(new Request("http://x/feed"), set, body);
    expect(await first.text()).toBe('{"items":[],"next_cursor":null,"prev_cursor":null,"has_newer":false}');
    expect(first.headers.get("x-frame-options")).toBe("DENY");
    expect(set.headers).toEqual({});
    const etag = first.headers.get("etag")!;
    const again = jsonWithEtag(
      new Request("http://x/feed", { headers: { "if-none-match": `W/"other", ${etag}` } }),
      { headers: {} },
      body,
    );
    expect(again.status).toBe(304);
    expect(again.headers.get("etag")).toBe(etag);
    const other = jsonWithEtag(new Request("http://x/feed"), { headers: {} }, renderPage([], "Yw"));
    expect(other.headers.get("etag")).not.toBe(etag);
  });
});
