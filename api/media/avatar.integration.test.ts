import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import exif from "exif-reader";
import sharp, { type FormatEnum } from "sharp";
import { keys } from "../../core/redis-keys.ts";
import { createStorage, type Storage } from "../../core/storage.ts";
import { openTestDb, type TestDb, waitFor } from "../../db/testing.ts";
import { startTestProjector } from "../../projector/testing.ts";
import { startTestS3, testApp } from "../testing.ts";
import { decodeGate } from "./decode-gate.ts";

// PUT /me/avatar against a real S3 API endpoint (s3rver, in-process), PostgreSQL and Redis.

const S3_PORT = 9512;
let s3: Awaited<ReturnType<typeof startTestS3>>;
let db: TestDb;
let storage: Storage;
let api: ReturnType<typeof testApp>;

beforeAll(async () => {
  s3 = await startTestS3(S3_PORT, "feed-test");
  db = await openTestDb(s3.env);
  storage = createStorage(db.config)!;
});
afterAll(async () => {
  storage.close();
  await db.close();
  await s3.close();
});
beforeEach(async () => {
  await db.reset();
  api = testAppWithStorage();
});

const testAppWithStorage = () => testApp(db, {}, { storage });

const png = (w = 64, h = 48) =>
  sharp({ create: { width: w, height: h, channels: 3, background: "#36c" } })
    .png()
    .toBuffer();
function upload(token: string, bytes: Uint8Array | Buffer | string, name = "me.png", type = "image/png") {
  const form = new FormData();
  form.append("file", new File([bytes], name, { type }));
  return api.app.handle(
    new Request("http://localhost/me/avatar", {
      method: "PUT",
      headers: { authorization: `Bearer ${token}` },
      body: form,
    }),
  );
}
/** Format, size and pixels of an image: what re-encoding a PNG keeps. */
async function pictureOf(image: Response | Uint8Array | Buffer) {
  const bytes = image instanceof Response ? new Uint8Array(await image.arrayBuffer()) : image;
  const { format, width, height } = await sharp(bytes).metadata();
  return { format, width, height, pixels: new Uint8Array(await sharp(bytes).raw().toBuffer()) };
}

/** Objects stored under one user's avatar prefix (s3rver keeps them as files). */
const objects = async (userId: string) => {
  const dir = `${s3.dir}/feed-test/users/${userId}`;
  const out = await Bun.$`find ${dir} -name '*._S3rver_object' 2>/dev/null`.nothrow().text();
  return out.split("\n").filter(Boolean).length;
};

describe("PUT /me/avatar", () => {
  test("stores the image at users/{id}/avatars/{random}.png and answers a presigned URL that serves it", async () => {
    const u = await db.makeUser();
    const bytes = await png();
    const res = await upload(u.token, bytes);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { avatar_url: string; id: string };
    expect(body.id).toBe(u.id);
    const url = new URL(body.avatar_url);
    expect(url.pathname).toMatch(new RegExp(`^/feed-test/users/${u.id}/avatars/[A-Za-z0-9_-]{22}\\.png$`));
    expect(url.searchParams.get("X-Amz-Expires")).toBe("900");
    const got = await fetch(body.avatar_url);
    expect(got.status).toBe(200);
    // The same picture, re-encoded (see "what is stored" below).
    expect(await pictureOf(got)).toEqual(await pictureOf(bytes));
    const me = await api.call("GET", "/me", { token: u.token });
    expect(me.body.avatar_url).toContain(url.pathname);
    const [ev] = await db.sql`SELECT event FROM outbox WHERE type = 'AvatarUpdated'`;
    expect(ev?.event.payload).toMatchObject({ user_id: u.id, previous_key: null });
  });

  test("replacing deletes the old object once the projector handles the event", async () => {
    const p = await startTestProjector(db, { storage });
    const u = await db.makeUser();
    const first = (await (await upload(u.token, await png())).json()) as { avatar_url: string };
    await p.settle();
    const second = (await (await upload(u.token, await png(80, 80))).json()) as { avatar_url: string };
    await p.settle();
    expect((await fetch(first.avatar_url)).status).toBe(404);
    expect((await fetch(second.avatar_url)).status).toBe(200);
    // The new avatar and its thumbnail.
    expect(await objects(u.id)).toBe(2);
    await p.stop();
  });

  test("bad files are refused with a problem and store nothing", async () => {
    const u = await db.makeUser();
    // Header intact, pixel data cut short: only a decode can tell.
    const noisy = await sharp(Buffer.from(crypto.getRandomValues(new Uint8Array(300 * 300 * 3))), {
      raw: { width: 300, height: 300, channels: 3 },
    })
      .png()
      .toBuffer();
    const truncated = noisy.subarray(0, Math.floor(noisy.length * 0.6));
    const cases: [string, Uint8Array | string, number, string][] = [
      ["an HTML page named .png", "<html><script>alert(1)</script></html>", 415, "unsupported_media_type"],
      [
        "an SVG with a script",
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        415,
        "unsupported_media_type",
      ],
      [
        "a PNG header on garbage",
        new Uint8Array([
          0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 1, 2, 3, 4, 5,
          6, 7, 8,
        ]),
        400,
        "validation_failed",
      ],
      ["an empty file", "", 400, "validation_failed"],
      ["a truncated PNG", truncated, 400, "validation_failed"],
    ];
    for (const [name, bytes, status, code] of cases) {
      const res = await upload(u.token, bytes);
      const body = (await res.json()) as { code: string; detail: string };
      expect({ name, status: res.status, code: body.code }).toEqual({ name, status, code });
    }
    // A decompression bomb: a 1×1 PNG whose header claims 30 000 × 30 000 pixels (CRC fixed up).
    const bomb = new Uint8Array(await png(1, 1));
    const view = new DataView(bomb.buffer);
    view.setUint32(16, 30_000);
    view.setUint32(20, 30_000);
    view.setUint32(29, Bun.hash.crc32(bomb.subarray(12, 29)));
    const res = await upload(u.token, bomb);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toContain("pixels");
    // Over 5 MB.
    const big = new Uint8Array(5 * 1024 * 1024 + 1);
    big.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect((await upload(u.token, big)).status).toBe(413);
    // No file part at all.
    const form = new FormData();
    const missing = await api.app.handle(
      new Request("http://localhost/me/avatar", {
        method: "PUT",
        headers: { authorization: `Bearer ${u.token}` },
        body: form,
      }),
    );
    expect(missing.status).toBe(400);
    expect(await objects(u.id)).toBe(0);
    expect(await db.sql`SELECT 1 FROM outbox`).toHaveLength(0);
  });
});

describe("PUT /posts/:id/image", () => {
  function attach(token: string, postId: string, bytes: Uint8Array | Buffer, name = "pic.png") {
    const form = new FormData();
    form.append("file", new File([bytes], name, { type: "image/png" }));
    return api.app.handle(
      new Request(`http://localhost/posts/${postId}/image`, {
        method: "PUT",
        headers: { authorization: `Bearer ${token}` },
        body: form,
      }),
    );
  }

  test("attaches an image to one's own post: posts/{id}/{random}.png, presigned URL, dimensions; text unchanged", async () => {
    const u = await db.makeUser();
    const post = await api.call("POST", "/posts", {
      token: u.token,
      json: { text: "with a picture" },
      headers: { "idempotency-key": crypto.randomUUID() },
    });
    const bytes = await png(120, 90);
    const res = await attach(u.token, post.body.id, bytes);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      text: string;
      image: { url: string; thumb_url: null; width: number; height: number };
    };
    expect(body.text).toBe("with a picture");
    expect(body.image).toMatchObject({ thumb_url: null, width: 120, height: 90 });
    expect(new URL(body.image.url).pathname).toMatch(
      new RegExp(`^/feed-test/posts/${post.body.id}/[A-Za-z0-9_-]{22}\\.png$`),
    );
    const got = await fetch(body.image.url);
    expect(got.headers.get("content-type")).toBe("image/png");
    expect(await pictureOf(got)).toEqual(await pictureOf(bytes));
    const again = await api.call("GET", `/posts/${post.body.id}`, { token: u.token });
    expect(again.body.image.width).toBe(120);
    const [ev] = await db.sql`SELECT event FROM outbox WHERE type = 'PostImageUploaded'`;
    expect(ev?.event.payload).toMatchObject({ post_id: post.body.id, previous_key: null });
  });

  test("replacing deletes the old object via the projector", async () => {
    const p = await startTestProjector(db, { storage });
    const u = await db.makeUser();
    const post = await api.call("POST", "/posts", {
      token: u.token,
      json: { text: "x" },
      headers: { "idempotency-key": crypto.randomUUID() },
    });
    const first = (await (await attach(u.token, post.body.id, await png())).json()) as {
      image: { url: string };
    };
    await p.settle();
    const second = (await (await attach(u.token, post.body.id, await png(10, 10))).json()) as {
      image: { url: string };
    };
    await p.settle();
    expect((await fetch(first.image.url)).status).toBe(404);
    expect((await fetch(second.image.url)).status).toBe(200);
    await p.stop();
  });

  test("another user's post, or a post that does not exist, is a 404 and stores nothing", async () => {
    const [owner, other] = [await db.makeUser(), await db.makeUser()];
    const post = await api.call("POST", "/posts", {
      token: owner.token,
      json: { text: "mine" },
      headers: { "idempotency-key": crypto.randomUUID() },
    });
    const res = await attach(other.token, post.body.id, await png());
    expect(res.status).toBe(404);
    expect((await attach(other.token, "7312950014423042", await png())).status).toBe(404);
    const dir = `${s3.dir}/feed-test/posts/${post.body.id}`;
    expect((await Bun.$`find ${dir} -name '*._S3rver_object' 2>/dev/null`.nothrow().text()).trim()).toBe("");
    expect(await db.sql`SELECT 1 FROM outbox WHERE type = 'PostImageUploaded'`).toHaveLength(0);
  });
});

describe("POST /posts with an image (multipart)", () => {
  function create(token: string, key: string, text: string, image?: Uint8Array | Buffer | string) {
    const form = new FormData();
    form.append("text", text);
    if (image !== undefined) form.append("image", new File([image], "p.png", { type: "image/png" }));
    return api.app.handle(
      new Request("http://localhost/posts", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "idempotency-key": key },
        body: form,
      }),
    );
  }

  test("text that looks like JSON stays text (Elysia's form parser made it an object: a 400)", async () => {
    const u = await db.makeUser();
    for (const text of ['{"looks":"like json"}', "[1, 2, 3]", "a.b[0] = {}"]) {
      const res = await create(u.token, crypto.randomUUID(), text, await png(20, 20));
      expect(res.status).toBe(201);
      expect(((await res.json()) as { text: string }).text).toBe(text);
    }
  });

  test("one command: the post, its image, both events; a replay answers the same post with fresh URLs", async () => {
    const u = await db.makeUser();
    const bytes = await png(50, 40);
    const key = crypto.randomUUID();
    const res = await create(u.token, key, "look", bytes);
    expect(res.status).toBe(201);
    const post = (await res.json()) as { id: string; text: string; image: { url: string; width: number } };
    expect(post.text).toBe("look");
    expect(post.image.width).toBe(50);
    expect(await pictureOf(await fetch(post.image.url))).toEqual(await pictureOf(bytes));
    const types = (await db.sql`SELECT type FROM outbox ORDER BY id`).map((r) => r.type);
    expect(types).toEqual(["PostCreated", "PostImageUploaded"]);

    const replay = await create(u.token, key, "look", bytes);
    expect(replay.status).toBe(201);
    expect(((await replay.json()) as { id: string }).id).toBe(post.id);
    const other = await create(u.token, key, "look", await png(51, 40));
    expect(other.status).toBe(422);
    expect(await db.sql`SELECT 1 FROM posts`).toHaveLength(1);
  });

  test("a bad image refuses the whole post: nothing is created", async () => {
    const u = await db.makeUser();
    const res = await create(u.token, crypto.randomUUID(), "nope", "<html>not an image</html>");
    expect(res.status).toBe(415);
    expect(await db.sql`SELECT 1 FROM posts`).toHaveLength(0);
    expect(await db.sql`SELECT 1 FROM outbox`).toHaveLength(0);
    const textOnly = await create(u.token, crypto.randomUUID(), "just words");
    expect(textOnly.status).toBe(201);
    expect(((await textOnly.json()) as { image: null }).image).toBeNull();
  });
});

describe("thumbnails (media consumer group)", () => {
  test("WebP variants, upright from EXIF, without metadata; thumb_url appears; replacing deletes them", async () => {
    const p = await startTestProjector(db, { storage });
    const u = await db.makeUser();
    // 300×200 pixels stored sideways: EXIF orientation 6 says "rotate 90° clockwise to show".
    const sideways = await sharp({ create: { width: 300, height: 200, channels: 3, background: "#357" } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect((await sharp(sideways).metadata()).orientation).toBe(6);
    const form = new FormData();
    form.append("text", "portrait");
    form.append("image", new File([sideways], "p.jpg", { type: "image/jpeg" }));
    const res = await api.app.handle(
      new Request("http://localhost/posts", {
        method: "POST",
        headers: { authorization: `Bearer ${u.token}`, "idempotency-key": crypto.randomUUID() },
        body: form,
      }),
    );
    const post = (await res.json()) as { id: string; image: { thumb_url: string | null } };
    expect(post.image.thumb_url).toBeNull(); // not made yet
    await p.settle();

    const again = await api.call("GET", `/posts/${post.id}`, { token: u.token });
    const thumbUrl = again.body.image.thumb_url as string;
    expect(new URL(thumbUrl).pathname).toMatch(/_w320\.webp$/);
    const thumb = new Uint8Array(await (await fetch(thumbUrl)).arrayBuffer());
    const meta = await sharp(thumb).metadata();
    expect(meta.format).toBe("webp");
    expect(meta.orientation).toBeUndefined();
    expect(meta.exif).toBeUndefined();
    expect({ w: meta.width, h: meta.height }).toEqual({ w: 200, h: 300 }); // upright, never enlarged
    const [row] = await db.sql`SELECT image_variants FROM posts WHERE id = ${post.id}`;
    expect(Object.keys(row?.image_variants).sort()).toEqual(["1080", "320"]);

    // Replacing the image deletes the old original and its thumbnails.
    const form2 = new FormData();
    form2.append("file", new File([await png(40, 40)], "n.png", { type: "image/png" }));
    await api.app.handle(
      new Request(`http://localhost/posts/${post.id}/image`, {
        method: "PUT",
        headers: { authorization: `Bearer ${u.token}` },
        body: form2,
      }),
    );
    await p.settle();
    expect((await fetch(thumbUrl)).status).toBe(404);
    await p.stop();
  });

  test("an image replaced and deleted before its thumbnails were made is skipped, not dead-lettered (found by the fuzzer)", async () => {
    const u = await db.makeUser();
    const put = async (postId: string, w: number) => {
      const form = new FormData();
      form.append("file", new File([await png(w, w)], "n.png", { type: "image/png" }));
      const r = await api.app.handle(
        new Request(`http://localhost/posts/${postId}/image`, {
          method: "PUT",
          headers: { authorization: `Bearer ${u.token}` },
          body: form,
        }),
      );
      expect(r.status).toBe(200);
    };
    const post = await api.call("POST", "/posts", {
      token: u.token,
      json: { text: "twice" },
      headers: { "idempotency-key": crypto.randomUUID() },
    });
    await put(post.body.id, 20);
    const [first] = await db.sql`SELECT image_key FROM posts WHERE id = ${post.body.id}`;
    await put(post.body.id, 30);
    // What the projector group does on the second event, done before the media group's turn.
    await storage.delete(first!.image_key);
    const p = await startTestProjector(db, { storage });
    await p.settle();
    expect(await db.redis.xlen(keys.dlq)).toBe(0);
    const [row] = await db.sql`SELECT image_variants FROM posts WHERE id = ${post.body.id}`;
    expect(Object.keys(row?.image_variants ?? {}).sort()).toEqual(["1080", "320"]);
    await p.stop();
  });
});

describe("direct uploads (POST /uploads, then attach by key)", () => {
  const presign = (token: string, body: unknown) => api.call("POST", "/uploads", { token, json: body });

  test("a presigned POST, the client uploads to S3, then attaches the key; the upload is moved", async () => {
    const u = await db.makeUser();
    const bytes = await png(30, 20);
    const r = await presign(u.token, { purpose: "avatar", content_type: "image/png", size: bytes.length });
    expect(r.status).toBe(200);
    expect(r.body.key).toMatch(new RegExp(`^uploads/${u.id}/[A-Za-z0-9_-]{22}\\.png$`));
    expect(r.body.fields["Content-Type"]).toBe("image/png");
    const policy = JSON.parse(Buffer.from(r.body.fields.Policy, "base64").toString());
    // Exactly the declared size: the quota counts what may really be stored.
    expect(policy.conditions).toContainEqual(["content-length-range", bytes.length, bytes.length]);
    expect([...(await db.sql`SELECT user_id::text, bytes FROM pending_uploads`)]).toEqual([
      { user_id: u.id, bytes: bytes.length },
    ]);
    expect(Date.parse(r.body.expires_at) - Date.now()).toBeLessThanOrEqual(300_000);

    const form = new FormData();
    for (const [k, v] of Object.entries(r.body.fields as Record<string, string>)) form.append(k, v);
    form.append("file", new File([bytes], "x.png", { type: "image/png" }));
    const up = await fetch(r.body.url, { method: "POST", body: form });
    expect(up.status).toBeLessThan(300);

    const attach = await api.call("PUT", "/me/avatar", { token: u.token, json: { upload_key: r.body.key } });
    expect(attach.status).toBe(200);
    expect(new URL(attach.body.avatar_url).pathname).toMatch(new RegExp(`/users/${u.id}/avatars/`));
    expect(await storage.head(r.body.key)).toBeNull(); // moved, not left behind
    expect(await db.sql`SELECT 1 FROM pending_uploads`).toHaveLength(0); // no longer pending
  });

  /** Uploads `bytes` through a presigned POST the way a client does. */
  async function uploadTo(
    presigned: { url: string; fields: Record<string, string> },
    bytes: Uint8Array | Buffer,
  ) {
    const form = new FormData();
    for (const [k, v] of Object.entries(presigned.fields)) form.append(k, v);
    form.append("file", new File([bytes], "x.png", { type: "image/png" }));
    expect((await fetch(presigned.url, { method: "POST", body: form })).status).toBeLessThan(300);
  }

  test("POST /posts {text, upload_key}: the post is created with the upload as its image; a retry replays; another user's key is refused", async () => {
    const u = await db.makeUser();
    const other = await db.makeUser();
    const bytes = await png(40, 30);
    const r = await presign(u.token, {
      purpose: "post_image",
      content_type: "image/png",
      size: bytes.length,
    });
    await uploadTo(r.body, bytes);

    const refused = await api.call("POST", "/posts", {
      token: other.token,
      json: { text: "not mine", upload_key: r.body.key },
      headers: { "idempotency-key": "theft-1" },
    });
    expect(refused.status).toBe(403);

    const post = () =>
      api.call("POST", "/posts", {
        token: u.token,
        json: { text: "a picture", upload_key: r.body.key },
        headers: { "idempotency-key": "with-upload-1" },
      });
    const created = await post();
    expect(created.status).toBe(201);
    expect(created.body.image).toMatchObject({ width: 40, height: 30 });
    expect(new URL(created.body.image.url).pathname).toMatch(new RegExp(`/posts/${created.body.id}/`));
    expect(await storage.head(r.body.key)).toBeNull(); // moved, not left behind
    expect(await db.sql`SELECT 1 FROM pending_uploads`).toHaveLength(0);
    const [row] = await db.sql`SELECT image_key, image_width FROM posts WHERE id = ${created.body.id}`;
    expect(row).toMatchObject({ image_width: 40 });
    expect(await storage.head(row!.image_key)).not.toBeNull();

    // The upload is gone, yet a retry of the same request gets the stored answer.
    const again = await post();
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body.id).toBe(created.body.id);
    expect(await db.sql`SELECT 1 FROM posts WHERE author_id = ${u.id}`).toHaveLength(1);

    // The same key with a used upload and a fresh Idempotency-Key: nothing to attach.
    const reused = await api.call("POST", "/posts", {
      token: u.token,
      json: { text: "again", upload_key: r.body.key },
      headers: { "idempotency-key": "with-upload-2" },
    });
    expect(reused.status).toBe(404);
    expect(reused.body.code).toBe("not_found");
    const both = new FormData();
    both.append("text", "both");
    both.append("upload_key", r.body.key);
    both.append("image", new File([bytes], "x.png", { type: "image/png" }));
    const twice = await api.app.handle(
      new Request("http://localhost/posts", {
        method: "POST",
        headers: { authorization: `Bearer ${u.token}`, "idempotency-key": "with-upload-3" },
        body: both,
      }),
    );
    expect(twice.status).toBe(400);
    expect(((await twice.json()) as { detail: string }).detail).toContain('"image" or a JSON "upload_key"');
  });

  test("a quota of pending uploads per user, by count and by bytes: 429 with Retry-After past it; attaching or sweeping releases", async () => {
    const bytes = await png(30, 20);
    const L = bytes.length;
    api = testApp(
      db,
      {},
      {
        storage,
        config: { ...db.config, UPLOAD_PENDING_MAX_COUNT: 2, UPLOAD_PENDING_MAX_BYTES: 2 * L + 10 },
      },
    );
    const [u, v] = [await db.makeUser(), await db.makeUser()];
    const ask = (who: { token: string }, size: number) =>
      presign(who.token, { purpose: "post_image", content_type: "image/png", size });

    const a = await ask(u, L);
    expect(a.status).toBe(200);
    await uploadTo(a.body, bytes);
    expect((await ask(u, L)).status).toBe(200);
    // A third upload is one too many.
    const over = await ask(u, 1);
    expect(over.status).toBe(429);
    expect(over.body.code).toBe("upload_quota_exceeded");
    // Free again when the oldest is swept, a day from now (if none is attached before).
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(86_000);
    expect(Number(over.headers.get("retry-after"))).toBeLessThanOrEqual(86_400 + 300);

    // Bytes: another user, one upload of nearly everything, then one byte too many.
    expect((await ask(v, 2 * L + 10)).status).toBe(200);
    const tooBig = await ask(v, 1);
    expect(tooBig.status).toBe(429);
    expect(tooBig.body.detail).toContain(`${2 * L + 10} bytes`);

    // Attaching releases that upload in its transaction: room for one more.
    const post = await api.call("POST", "/posts", {
      token: u.token,
      json: { text: "x" },
      headers: { "idempotency-key": crypto.randomUUID() },
    });
    const attached = await api.call("PUT", `/posts/${post.body.id}/image`, {
      token: u.token,
      json: { upload_key: a.body.key },
    });
    expect(attached.status).toBe(200);
    expect((await ask(u, 1)).status).toBe(200);
    expect((await ask(u, 1)).status).toBe(429);

    // The sweep releases what it swept; reservations younger than that stay.
    const { releaseSweptUploads } = await import("../../projector/maintenance.ts");
    expect(await releaseSweptUploads(db.sql, Date.now())).toBe(0);
    expect(await releaseSweptUploads(db.sql, Date.now() + 86_400_000 + 301_000)).toBe(3);
    expect((await ask(u, L)).status).toBe(200);
    expect((await ask(v, L)).status).toBe(200);
  });

  test("concurrent presigns never overshoot the quota", async () => {
    api = testApp(db, {}, { storage, config: { ...db.config, UPLOAD_PENDING_MAX_COUNT: 5 } });
    const u = await db.makeUser();
    const statuses = await Promise.all(
      Array.from({ length: 30 }, () =>
        presign(u.token, { purpose: "avatar", content_type: "image/png", size: 100 }).then((r) => r.status),
      ),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(25);
    expect(await db.sql`SELECT 1 FROM pending_uploads WHERE user_id = ${u.id}`).toHaveLength(5);
  });

  test("keys outside your prefix, missing, too big or not images are refused", async () => {
    const [u, other] = [await db.makeUser(), await db.makeUser()];
    const attach = (key: string) =>
      api.call("PUT", "/me/avatar", { token: u.token, json: { upload_key: key } });
    expect((await attach(`uploads/${other.id}/x.png`)).status).toBe(403);
    expect((await attach(`uploads/${u.id}/../${other.id}/x.png`)).status).toBe(403);
    expect((await attach(`uploads/${u.id}/missing.png`)).status).toBe(404);
    await storage.put(`uploads/${u.id}/big.png`, new Uint8Array(5 * 1024 * 1024 + 10), "image/png");
    expect((await attach(`uploads/${u.id}/big.png`)).status).toBe(413);
    await storage.put(`uploads/${u.id}/page.png`, new TextEncoder().encode("<html>hi</html>"), "image/png");
    expect((await attach(`uploads/${u.id}/page.png`)).status).toBe(415);
    const both = new FormData();
    both.append("file", new File([await png()], "a.png"));
    both.append("upload_key", `uploads/${u.id}/page.png`);
    const res = await api.app.handle(
      new Request("http://localhost/me/avatar", {
        method: "PUT",
        headers: { authorization: `Bearer ${u.token}` },
        body: both,
      }),
    );
    expect(res.status).toBe(400);
    expect(await db.sql`SELECT 1 FROM outbox`).toHaveLength(0);
  });

  test("upload keys with a NUL, a lone surrogate or other odd names are a 404, not a 500 (found by the fuzzer)", async () => {
    const u = await db.makeUser();
    for (const name of ["\u0000", "a\ud800.png", "x.png\u0000", " ", "%00.png", "😀.png", "noext"]) {
      const r = await api.call("PUT", "/me/avatar", {
        token: u.token,
        json: { upload_key: `uploads/${u.id}/${name}` },
      });
      expect(r.status).toBe(404);
      expect(r.body.code).toBe("not_found");
    }
  });

  test("presign input is validated: type, size, purpose", async () => {
    const u = await db.makeUser();
    expect((await presign(u.token, { purpose: "avatar", content_type: "image/gif", size: 10 })).status).toBe(
      400,
    );
    expect(
      (await presign(u.token, { purpose: "avatar", content_type: "image/png", size: 6 * 1024 * 1024 }))
        .status,
    ).toBe(413);
    expect((await presign(u.token, { purpose: "banner", content_type: "image/png", size: 10 })).status).toBe(
      400,
    );
    expect((await presign(u.token, { purpose: "avatar", content_type: "image/png", size: 0 })).status).toBe(
      400,
    );
  });

  test("unattached uploads are swept after their day", async () => {
    const { sweepUploads } = await import("../../projector/maintenance.ts");
    const u = await db.makeUser();
    await storage.put(`uploads/${u.id}/left.png`, await png(), "image/png");
    expect(await sweepUploads(storage, new Date(Date.now() - 86_400_000))).toBe(0); // too young
    expect(await sweepUploads(storage, new Date(Date.now() + 1000))).toBeGreaterThanOrEqual(1);
    expect(await storage.head(`uploads/${u.id}/left.png`)).toBeNull();
  });
});

test("without S3 configured, media routes answer 503 and say why", async () => {
  const u = await db.makeUser();
  const bare = testApp(db, {}, { storage: null });
  const r = await bare.call("POST", "/uploads", {
    token: u.token,
    json: { purpose: "avatar", content_type: "image/png", size: 10 },
  });
  expect(r.status).toBe(503);
  expect(r.body.detail).toContain("S3_ENDPOINT");
  // A post with an image, either way: nothing is written.
  const form = new FormData();
  form.append("text", "no storage");
  form.append("image", new File([await png()], "a.png", { type: "image/png" }));
  const multipart = await bare.app.handle(
    new Request("http://localhost/posts", {
      method: "POST",
      headers: { authorization: `Bearer ${u.token}`, "idempotency-key": "no-s3-1" },
      body: form,
    }),
  );
  expect(multipart.status).toBe(503);
  const byKey = await bare.call("POST", "/posts", {
    token: u.token,
    json: { text: "no storage", upload_key: `uploads/${u.id}/x.png` },
    headers: { "idempotency-key": "no-s3-2" },
  });
  expect(byKey.status).toBe(503);
  expect(await db.sql`SELECT 1 FROM posts WHERE author_id = ${u.id}`).toHaveLength(0);
});

describe("the decode cap (MEDIA_DECODE_CONCURRENCY)", () => {
  /** An app whose process decodes one image at a time; the test holds that one slot. */
  function capped(waitMs: number) {
    const config = { ...db.config, MEDIA_DECODE_CONCURRENCY: 1, MEDIA_DECODE_WAIT_MS: waitMs };
    api = testApp(db, {}, { storage, config });
    return decodeGate(config);
  }

  test("with every slot taken, an upload waits its time, then gets 503 media_busy with Retry-After and stores nothing", async () => {
    const gate = capped(50);
    const u = await db.makeUser();
    const [, release] = await gate.slots.acquire();
    try {
      const res = await upload(u.token, await png());
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("1");
      expect(((await res.json()) as { code: string }).code).toBe("media_busy");
    } finally {
      release();
    }
    expect(await objects(u.id)).toBe(0);
    expect(await db.sql`SELECT 1 FROM outbox`).toHaveLength(0);
    // The slot free again, the same upload goes through.
    expect((await upload(u.token, await png())).status).toBe(200);
  });

  test("an upload waiting for a slot goes on as soon as one comes free", async () => {
    const gate = capped(30_000);
    const u = await db.makeUser();
    const bytes = await png();
    const [, release] = await gate.slots.acquire();
    const pending = upload(u.token, bytes);
    await waitFor(() => gate.waiting === 1, 10_000, "the upload to wait for the slot");
    release();
    expect((await pending).status).toBe(200);
    expect(gate.waiting).toBe(0);
    expect(gate.slots.getValue()).toBe(1);
  });
});

describe("what is stored: re-encoded, upright, without metadata", () => {
  /**
   * A 60×40 JPEG as a phone writes it: EXIF with the place it was taken (GPS), and stored
   * sideways (orientation 6: "turn 90° clockwise to show"). Its left half is red, its right half
   * blue, so upright means red on top.
   */
  async function phonePhoto() {
    const red = await sharp({ create: { width: 30, height: 40, channels: 3, background: "#f00" } })
      .png()
      .toBuffer();
    const photo = await sharp({ create: { width: 60, height: 40, channels: 3, background: "#00f" } })
      .composite([{ input: red, left: 0, top: 0 }])
      .jpeg()
      .withExif({
        IFD0: { Make: "Phone", Model: "Camera" },
        IFD3: {
          GPSLatitudeRef: "N",
          GPSLatitude: "48/1 51/1 29/1",
          GPSLongitudeRef: "E",
          GPSLongitude: "2/1 17/1 40/1",
        },
      })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    // The fixture really carries what must not get through.
    const meta = await sharp(photo).metadata();
    expect(meta.orientation).toBe(6);
    expect(exif(meta.exif!).GPSInfo).toMatchObject({ GPSLatitude: [48, 51, 29], GPSLongitude: [2, 17, 40] });
    return photo;
  }

  /** Fetches a served image and checks it carries no metadata at all; returns its metadata. */
  async function served(url: string, format: keyof FormatEnum) {
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const bytes = Buffer.from(await res.arrayBuffer());
    const meta = await sharp(bytes).metadata();
    expect({
      format: meta.format,
      exif: meta.exif,
      xmp: meta.xmp,
      iptc: meta.iptc,
      orientation: meta.orientation,
    }).toEqual({ format, exif: undefined, xmp: undefined, iptc: undefined, orientation: undefined });
    expect(bytes.includes("Exif")).toBe(false);
    return { meta, bytes };
  }

  /** Red on top, blue below: the photo as it is meant to be seen. */
  async function expectUpright(bytes: Buffer) {
    const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => [
      ...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3),
    ];
    const [top, bottom] = [at(info.width >> 1, 2), at(info.width >> 1, info.height - 3)];
    expect(top[0]! > 200 && top[2]! < 60).toBe(true);
    expect(bottom[2]! > 200 && bottom[0]! < 60).toBe(true);
  }

  test("an avatar: the stored original and its 128 px WebP thumbnail (in the user JSON) carry no EXIF or GPS; upright, dimensions swapped", async () => {
    const p = await startTestProjector(db, { storage });
    const u = await db.makeUser();
    const res = await upload(u.token, await phonePhoto(), "me.jpg", "image/jpeg");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { avatar_url: string; avatar_thumb_url: string | null };
    expect(body.avatar_thumb_url).toBeNull(); // made by the media group, afterwards
    const original = await served(body.avatar_url, "jpeg");
    expect({ w: original.meta.width, h: original.meta.height }).toEqual({ w: 40, h: 60 });
    await expectUpright(original.bytes);

    await p.settle();
    const me = await api.call("GET", "/me", { token: u.token });
    const thumbUrl = me.body.avatar_thumb_url as string;
    expect(new URL(thumbUrl).pathname).toMatch(
      new RegExp(`^/feed-test/users/${u.id}/avatars/[A-Za-z0-9_-]{22}_s128\\.webp$`),
    );
    const thumb = await served(thumbUrl, "webp");
    expect({ w: thumb.meta.width, h: thumb.meta.height }).toEqual({ w: 128, h: 128 });
    // Authors in hydrated posts carry it too.
    const post = await api.call("POST", "/posts", {
      token: u.token,
      json: { text: "hi" },
      headers: { "idempotency-key": crypto.randomUUID() },
    });
    expect(post.body.author.avatar_thumb_url).toContain(new URL(thumbUrl).pathname);

    // Replaced: the old original and its thumbnail go; the new avatar gets its own thumbnail.
    expect((await upload(u.token, await png())).status).toBe(200);
    await p.settle();
    expect((await fetch(thumbUrl)).status).toBe(404);
    const after = await api.call("GET", "/me", { token: u.token });
    expect(after.body.avatar_thumb_url).toMatch(/_s128\.webp/);
    expect(await objects(u.id)).toBe(2);
    await p.stop();
  });

  test("a post image (multipart and replaced): the stored original and its thumbnails carry no EXIF or GPS; upright, dimensions swapped", async () => {
    const p = await startTestProjector(db, { storage });
    const u = await db.makeUser();
    const form = new FormData();
    form.append("text", "where was this?");
    form.append("image", new File([await phonePhoto()], "p.jpg", { type: "image/jpeg" }));
    const res = await api.app.handle(
      new Request("http://localhost/posts", {
        method: "POST",
        headers: { authorization: `Bearer ${u.token}`, "idempotency-key": crypto.randomUUID() },
        body: form,
      }),
    );
    expect(res.status).toBe(201);
    const post = (await res.json()) as { id: string; image: { url: string; width: number; height: number } };
    expect({ w: post.image.width, h: post.image.height }).toEqual({ w: 40, h: 60 });
    const original = await served(post.image.url, "jpeg");
    expect({ w: original.meta.width, h: original.meta.height }).toEqual({ w: 40, h: 60 });
    await expectUpright(original.bytes);
    await p.settle();
    const [row] = await db.sql`SELECT image_variants FROM posts WHERE id = ${post.id}`;
    for (const v of Object.values(row?.image_variants as Record<string, { key: string }>))
      await served(await storage.url(v.key), "webp");

    const replace = new FormData();
    replace.append("file", new File([await phonePhoto()], "p.jpg", { type: "image/jpeg" }));
    const put = await api.app.handle(
      new Request(`http://localhost/posts/${post.id}/image`, {
        method: "PUT",
        headers: { authorization: `Bearer ${u.token}` },
        body: replace,
      }),
    );
    const replaced = (await put.json()) as { image: { url: string; width: number; height: number } };
    expect({ w: replaced.image.width, h: replaced.image.height }).toEqual({ w: 40, h: 60 });
    await expectUpright((await served(replaced.image.url, "jpeg")).bytes);
    await p.stop();
  });

  test("the format stays the one sent: PNG as PNG, WebP as WebP, metadata dropped", async () => {
    const u = await db.makeUser();
    const base = () => sharp({ create: { width: 30, height: 20, channels: 3, background: "#0a0" } });
    const withExif = { IFD0: { Make: "Phone" } };
    for (const [format, bytes] of [
      ["png", await base().png().withExif(withExif).toBuffer()],
      ["webp", await base().webp().withExif(withExif).toBuffer()],
    ] as const) {
      expect((await sharp(bytes).metadata()).exif).toBeDefined();
      const res = await upload(u.token, bytes, `me.${format}`, `image/${format}`);
      expect(res.status).toBe(200);
      const { avatar_url } = (await res.json()) as { avatar_url: string };
      expect(new URL(avatar_url).pathname.endsWith(`.${format}`)).toBe(true);
      const { meta } = await served(avatar_url, format);
      expect({ w: meta.width, h: meta.height }).toEqual({ w: 30, h: 20 });
    }
  });
});
