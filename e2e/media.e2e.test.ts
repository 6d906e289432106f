import { describe, expect, test } from "bun:test";
import sharp from "sharp";
import { base, signIn } from "./support.ts";

// Uploads over real HTTP against the running stack and its local S3 endpoint.

function put(token: string, file: Blob) {
  const form = new FormData();
  form.append("file", file);
  return fetch(`${base}/me/avatar`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
}

describe("avatars over HTTP", () => {
  test("sign in, upload an avatar, download it through the presigned URL", async () => {
    const token = (await signIn(`pic${Date.now().toString(36)}`)).access_token;
    const jpeg = await sharp({ create: { width: 120, height: 80, channels: 3, background: "#a50" } })
      .jpeg()
      .toBuffer();
    const res = await put(token, new File([jpeg], "me.jpg", { type: "image/jpeg" }));
    expect(res.status).toBe(200);
    const { avatar_url } = (await res.json()) as { avatar_url: string };
    const img = await fetch(avatar_url);
    expect(img.status).toBe(200);
    // Stored re-encoded (metadata dropped): the same format and size, not the same bytes.
    const meta = await sharp(new Uint8Array(await img.arrayBuffer())).metadata();
    expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({
      format: "jpeg",
      width: 120,
      height: 80,
    });
  });

  test("a body over the limit is a 413 problem, not a reset connection", async () => {
    const token = (await signIn(`big${Date.now().toString(36)}`)).access_token;
    const res = await put(
      token,
      new File([new Uint8Array(7 * 1024 * 1024)], "big.jpg", { type: "image/jpeg" }),
    );
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
  });
});

describe("post images over HTTP", () => {
  test("sign in, create a post with an image, receive a presigned URL, download it; the thumbnail follows", async () => {
    const token = (await signIn(`img${Date.now().toString(36)}`)).access_token;
    const png = await sharp({ create: { width: 640, height: 480, channels: 3, background: "#2a7" } })
      .png()
      .toBuffer();
    const form = new FormData();
    form.append("text", "a picture");
    form.append("image", new File([png], "pic.png", { type: "image/png" }));
    const res = await fetch(`${base}/posts`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "idempotency-key": crypto.randomUUID() },
      body: form,
    });
    expect(res.status).toBe(201);
    const post = (await res.json()) as { id: string; image: { url: string; width: number; height: number } };
    expect(post.image).toMatchObject({ width: 640, height: 480 });
    const img = await fetch(post.image.url);
    expect(img.headers.get("content-type")).toBe("image/png");
    const stored = new Uint8Array(await img.arrayBuffer());
    expect(new Uint8Array(await sharp(stored).raw().toBuffer())).toEqual(
      new Uint8Array(await sharp(png).raw().toBuffer()),
    );
    let thumb: string | null = null;
    for (let i = 0; i < 100 && !thumb; i++) {
      await Bun.sleep(100);
      const again = await fetch(`${base}/posts/${post.id}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      thumb = ((await again.json()) as { image: { thumb_url: string | null } }).image.thumb_url;
    }
    expect(thumb).not.toBeNull();
    const t = await fetch(thumb!);
    expect(t.headers.get("content-type")).toBe("image/webp");
  });
});
