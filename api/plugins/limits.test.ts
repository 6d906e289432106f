import { describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { Elysia, t } from "elysia";
import { parseConfig } from "../../core/config.ts";
import { withCappedBody } from "../server.ts";
import { jsonOrForm, limitsPlugin, multipartLimit } from "./limits.ts";
import { problemPlugin } from "./problem.ts";

// The limits at the door (URL, headers, declared body) and the capped read of bodies that
// declare no length (the server's withCappedBody, in front of the app as in api/server.ts), on a
// small app with the real problem plugin.

const config = parseConfig({
  MAX_JSON_BODY_BYTES: "2048",
  MEDIA_MAX_BYTES: "4096",
  MAX_HEADER_BYTES: "2048",
  MAX_HEADER_COUNT: "20",
  MAX_URL_LENGTH: "300",
});

const app = new Elysia({ normalize: false })
  .use(problemPlugin())
  .use(limitsPlugin(config))
  .get("/ok", () => ({ ok: true }))
  .post("/json", ({ body }) => body, { body: t.Object({ text: t.String() }) })
  .post("/form", ({ body }) => ({ text: body.text, size: body.file?.size ?? null }), {
    parse: [...jsonOrForm],
    body: t.Object({ text: t.String(), file: t.Optional(t.File()) }),
  });
const serve = withCappedBody((r) => app.handle(r), config);

/** A body that never ends, counting what was taken from it. */
function endless(chunk = 512) {
  const seen = { bytes: 0 };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        seen.bytes += chunk;
        c.enqueue(new TextEncoder().encode("x".repeat(chunk)));
      },
    },
    // Nothing is produced before someone reads.
    { highWaterMark: 0 },
  );
  return { stream, seen };
}

function post(path: string, body: RequestInit["body"], headers: Record<string, string> = {}) {
  return serve(
    new Request(`http://localhost${path}`, { method: "POST", body, headers, duplex: "half" } as RequestInit),
    undefined as unknown as Server<undefined>,
  );
}

async function problem(res: Response) {
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  return (await res.json()) as { code: string; status: number; detail: string };
}

describe("body limits", () => {
  test("a declared JSON body over MAX_JSON_BODY_BYTES is refused with 413 before a byte is read", async () => {
    const { stream, seen } = endless();
    const res = await post("/json", stream, { "content-type": "application/json", "content-length": "2049" });
    expect(res.status).toBe(413);
    expect(res.headers.get("connection")).toBe("close");
    const p = await problem(res);
    expect(p.code).toBe("payload_too_large");
    expect(p.detail).toContain("at most 2048");
    expect(seen.bytes).toBe(0);
  });

  test("a JSON body without a length is read with a cap: an endless one stops at the limit", async () => {
    const { stream, seen } = endless();
    const res = await post("/json", stream, { "content-type": "application/json" });
    expect(res.status).toBe(413);
    expect(res.headers.get("connection")).toBe("close");
    expect((await problem(res)).code).toBe("payload_too_large");
    // The stream may be asked for a chunk or two ahead, never for the rest of it.
    expect(seen.bytes).toBeLessThanOrEqual(2048 + 4 * 512);
  });

  test("JSON within the limit, with or without a length, is parsed as before", async () => {
    const text = "y".repeat(1500);
    const body = JSON.stringify({ text });
    for (const headers of [
      { "content-type": "application/json" } as Record<string, string>,
      { "content-type": "application/json", "content-length": String(body.length) },
    ]) {
      const res = await post("/json", body, headers);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ text });
    }
  });

  test("a chunked body that is not JSON is a malformed_json problem", async () => {
    const res = await post("/json", "{nope", { "content-type": "application/json" });
    expect(res.status).toBe(400);
    expect((await problem(res)).code).toBe("malformed_json");
  });

  test("multipart uploads get the media limit, far above the JSON one", async () => {
    const form = new FormData();
    form.set("text", '{"looks":"like json"}');
    form.set("file", new File([new Uint8Array(4000)], "a.png", { type: "image/png" }));
    const res = await post("/form", form);
    expect(res.status).toBe(200);
    // A text field stays the text it was (Elysia's own parser would have made it an object).
    expect(await res.json()).toEqual({ text: '{"looks":"like json"}', size: 4000 });
  });

  test("multipart over the media limit is refused, declared or not", async () => {
    const over = multipartLimit(config) + 1;
    const declared = await post("/form", "x", {
      "content-type": "multipart/form-data; boundary=b",
      "content-length": String(over),
    });
    expect(declared.status).toBe(413);
    const { stream, seen } = endless(4096);
    const chunked = await post("/form", stream, { "content-type": "multipart/form-data; boundary=b" });
    expect(chunked.status).toBe(413);
    expect((await problem(chunked)).code).toBe("payload_too_large");
    expect(seen.bytes).toBeLessThanOrEqual(over + 4 * 4096);
  });

  test("a large declared body with another content type gets the JSON limit, not the media one", async () => {
    const res = await post("/json", "x", { "content-type": "text/plain", "content-length": "3000" });
    expect(res.status).toBe(413);
  });
});

describe("URL and header limits", () => {
  test("a request target over MAX_URL_LENGTH is 414 problem+json", async () => {
    const ok = await app.handle(new Request(`http://localhost/ok?q=${"a".repeat(290)}`));
    expect(ok.status).toBe(200);
    const res = await app.handle(new Request(`http://localhost/ok?q=${"a".repeat(300)}`));
    expect(res.status).toBe(414);
    const p = await problem(res);
    expect(p.code).toBe("uri_too_long");
    expect(p.detail).toContain("at most 300");
  });

  test("more header fields than MAX_HEADER_COUNT is 431 problem+json", async () => {
    const headers = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`x-h${i}`, "v"]));
    expect((await app.handle(new Request("http://localhost/ok", { headers: headers(20) }))).status).toBe(200);
    const res = await app.handle(new Request("http://localhost/ok", { headers: headers(21) }));
    expect(res.status).toBe(431);
    const p = await problem(res);
    expect(p.code).toBe("header_fields_too_large");
    expect(p.detail).toContain("21 header fields");
  });

  test("header fields over MAX_HEADER_BYTES are 431 problem+json", async () => {
    const ok = await app.handle(new Request("http://localhost/ok", { headers: { "x-a": "v".repeat(1900) } }));
    expect(ok.status).toBe(200);
    const res = await app.handle(
      new Request("http://localhost/ok", { headers: { "x-a": "v".repeat(2100) } }),
    );
    expect(res.status).toBe(431);
    expect((await problem(res)).detail).toContain("at most 2048");
  });
});
