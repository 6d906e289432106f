import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import sharp from "sharp";
import { createStorage, type Storage } from "../core/storage.ts";
import { openTestDb, type TestDb } from "../db/testing.ts";
import { startTestProjector } from "../projector/testing.ts";
import { startTestS3, testApp } from "./testing.ts";

// /openapi.json is the contract: every answer below, from the real app (hot routes answer with
// JSON rendered by hand, not encoded from their schemas), is validated against the schema the
// document gives for its route and status. Checked here, not on every request.

const S3_PORT = 9614;
let s3: Awaited<ReturnType<typeof startTestS3>>;
let db: TestDb;
let storage: Storage;

beforeAll(async () => {
  s3 = await startTestS3(S3_PORT, "feed-contract");
  db = await openTestDb(s3.env);
  await db.reset();
  storage = createStorage(db.config)!;
});
afterAll(async () => {
  storage.close();
  await db.close();
  await s3.close();
});

describe("real answers against /openapi.json", () => {
  test("every route exercised here answers what the document says, status by status", async () => {
    const api = testApp(db, {}, { storage });
    const proj = await startTestProjector(db, { storage });
    const doc = (await api.call("GET", "/openapi.json")).body;
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addFormat("integer", /^-?\d+$/);
    const checked: string[] = [];
    const check = (
      method: string,
      template: string,
      res: { status: number; headers: Headers; body: unknown },
    ) => {
      const responses = doc.paths[template]?.[method.toLowerCase()]?.responses;
      expect([method, template, responses !== undefined]).toEqual([method, template, true]);
      const documented = responses[String(res.status)];
      expect([method, template, res.status, documented !== undefined]).toEqual([
        method,
        template,
        res.status,
        true,
      ]);
      const type = (res.headers.get("content-type") ?? "").split(";")[0]!;
      const schema = documented.content?.[type]?.schema ?? documented.content?.["application/json"]?.schema;
      if (res.status === 204) return;
      expect([method, template, res.status, type, schema !== undefined]).toEqual([
        method,
        template,
        res.status,
        type,
        true,
      ]);
      const validate = ajv.compile(schema as object);
      const ok = validate(res.body);
      expect([method, template, res.status, ok ? [] : validate.errors]).toEqual([
        method,
        template,
        res.status,
        [],
      ]);
      checked.push(`${method} ${template} ${res.status}`);
    };
    const key = () => ({ "idempotency-key": crypto.randomUUID() });

    const [alice, bob] = [await db.makeUser(), await db.makeUser()];
    // An avatar and a post with an image, so URLs and image objects are in the answers.
    const png = await sharp({ create: { width: 16, height: 12, channels: 3, background: "#c33" } })
      .png()
      .toBuffer();
    const avatarForm = new FormData();
    avatarForm.append("file", new File([png], "a.png", { type: "image/png" }));
    const avatar = await api.app.handle(
      new Request("http://localhost/me/avatar", {
        method: "PUT",
        headers: { authorization: `Bearer ${alice.token}` },
        body: avatarForm,
      }),
    );
    check("PUT", "/me/avatar", { status: avatar.status, headers: avatar.headers, body: await avatar.json() });
    const follow = await api.call("POST", "/follows", {
      token: bob.token,
      json: { user_id: alice.id },
      headers: key(),
    });
    check("POST", "/follows", follow);
    const posted = await api.call("POST", "/posts", {
      token: alice.token,
      json: { text: "hello" },
      headers: key(),
    });
    check("POST", "/posts", posted);
    const imageForm = new FormData();
    imageForm.append("file", new File([png], "p.png", { type: "image/png" }));
    const image = await api.app.handle(
      new Request(`http://localhost/posts/${posted.body.id}/image`, {
        method: "PUT",
        headers: { authorization: `Bearer ${alice.token}` },
        body: imageForm,
      }),
    );
    expect(image.status).toBe(200);
    check("PUT", "/posts/{id}/image", {
      status: image.status,
      headers: image.headers,
      body: await image.json(),
    });
    for (let i = 0; i < 6; i++)
      await api.call("POST", "/posts", { token: alice.token, json: { text: `p${i}` }, headers: key() });
    await proj.settle();
    check(
      "POST",
      "/likes",
      await api.call("POST", "/likes", {
        token: bob.token,
        json: { post_id: posted.body.id },
        headers: key(),
      }),
    );
    await proj.settle();

    // The feed three times: cold, then from the caches and the process's memory; then paged.
    for (let i = 0; i < 3; i++)
      check("GET", "/feed", await api.call("GET", "/feed?limit=5", { token: bob.token }));
    const first = await api.call("GET", "/feed?limit=5", { token: bob.token });
    expect(first.body.items.length).toBe(5);
    const next = await api.call("GET", `/feed?limit=5&cursor=${first.body.next_cursor}`, {
      token: bob.token,
    });
    check("GET", "/feed", next);
    expect(next.body.items.some((p: { image: unknown }) => p.image !== null)).toBe(true);
    check("GET", "/feed", await api.call("GET", "/feed?limit=0", { token: bob.token }));
    check("GET", "/feed", await api.call("GET", "/feed"));
    check("GET", "/posts/{id}", await api.call("GET", `/posts/${posted.body.id}`, { token: bob.token }));
    check("GET", "/posts/{id}", await api.call("GET", "/posts/1", { token: bob.token }));
    check("GET", "/posts/popular", await api.call("GET", "/posts/popular", { token: bob.token }));
    check("GET", "/users/{id}", await api.call("GET", `/users/${alice.id}`, { token: bob.token }));
    check(
      "GET",
      "/users/{id}/posts",
      await api.call("GET", `/users/${alice.id}/posts?limit=3`, { token: bob.token }),
    );
    check("GET", "/me", await api.call("GET", "/me", { token: alice.token }));
    check(
      "POST",
      "/uploads",
      await api.call("POST", "/uploads", {
        token: bob.token,
        json: { purpose: "avatar", content_type: "image/png", size: 1000 },
      }),
    );
    check(
      "DELETE",
      "/likes/{post_id}",
      await api.call("DELETE", `/likes/${posted.body.id}`, { token: bob.token, headers: key() }),
    );
    check("GET", "/health", await api.call("GET", "/health"));
    check("GET", "/ready", await api.call("GET", "/ready"));
    check("GET", "/auth/providers", await api.call("GET", "/auth/providers"));
    await proj.stop();
    expect(checked.length).toBeGreaterThanOrEqual(20);
  }, 60_000);
});

describe("/openapi.json as OpenAPI 3.1", () => {
  test("redocly lint (recommended rules) finds no error in the served document", async () => {
    const api = testApp(db);
    const doc = (await api.call("GET", "/openapi.json")).body;
    const file = `/tmp/feed-openapi-${process.pid}.json`;
    await Bun.write(file, JSON.stringify(doc));
    const lint = Bun.spawnSync(
      [
        `${import.meta.dir}/../node_modules/.bin/redocly`,
        "lint",
        "--format=json",
        "--extends=recommended",
        file,
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    const report = JSON.parse(lint.stdout.toString()) as {
      totals: { errors: number };
      problems: { ruleId: string; severity: string; message: string }[];
    };
    expect(report.problems.filter((p) => p.severity === "error")).toEqual([]);
    expect(report.totals.errors).toBe(0);
    expect(lint.exitCode).toBe(0);
  }, 60_000);
});
