import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { openTestDb, type TestDb } from "../../db/testing.ts";
import { createApp } from "../app.ts";
import type { Deps } from "../deps.ts";
import { createApiMetrics } from "../metrics.ts";
import { type ApiServer, serveApi } from "../server.ts";

// The upload routes over a real socket: the token and the write limit are checked from the
// headers alone, so a stranger (or a user past their limit) is refused before sending any of
// the body they announced. Before, the route's parser waited for the body first: those requests
// ended in the body deadline's 408 instead.

let db: TestDb;
let api: ApiServer;

beforeAll(async () => {
  db = await openTestDb({
    IDLE_TIMEOUT_SECONDS: "8",
    // Short, so the old behaviour (waiting for the body) shows as a 408 quickly.
    REQUEST_TIMEOUT_MS: "1500",
    RATE_LIMIT_WRITES_PER_MINUTE: "1",
  });
  const deps: Deps = { sql: db.sql, redis: db.redis, config: db.config, metrics: createApiMetrics() };
  api = serveApi(createApp(deps), deps, { port: 0, hostname: "127.0.0.1", log: () => {} });
});
afterAll(async () => {
  await api.server.stop(true);
  await db.close();
});
beforeEach(async () => {
  await db.reset();
});

/**
 * Sends only the head of a request announcing a large multipart body, never a byte of the body,
 * and resolves with the status line and headers of the answer.
 */
function headOnly(method: string, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; head: string }>((resolve, reject) => {
    const s = connect(api.server.port!, "127.0.0.1");
    let text = "";
    const guard = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer; received ${JSON.stringify(text)}`));
    }, 10_000);
    s.on("error", () => {});
    s.on("data", (d) => {
      text += d.toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      if (end === -1) return;
      clearTimeout(guard);
      s.destroy();
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]),
        head: text.slice(0, end).toLowerCase(),
      });
    });
    s.on("connect", () => {
      const lines = [
        `${method} ${path} HTTP/1.1`,
        "Host: 127.0.0.1",
        "Content-Type: multipart/form-data; boundary=----x",
        `Content-Length: ${4 * 1024 * 1024}`,
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      ];
      s.write(`${lines.join("\r\n")}\r\n\r\n`);
    });
  });
}

const ROUTES: [string, string][] = [
  ["POST", "/posts"],
  ["PUT", "/me/avatar"],
  ["PUT", "/posts/7312950014423042/image"],
];

describe("upload routes check the caller before reading the body", () => {
  test("no token, or a bad one: 401 at once, the body never sent, the connection closed", async () => {
    for (const [method, path] of ROUTES) {
      for (const auth of [{}, { Authorization: "Bearer not.a.token" }] as Record<string, string>[]) {
        const r = await headOnly(method, path, auth);
        expect({ method, path, status: r.status }).toEqual({ method, path, status: 401 });
        expect(r.head).toContain("www-authenticate: bearer");
        expect(r.head).toContain("connection: close");
      }
    }
  });

  test("a user past their write limit: 429 with Retry-After, the body never sent", async () => {
    const u = await db.makeUser();
    // The one write of the minute.
    const first = await fetch(`http://127.0.0.1:${api.server.port}/posts`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${u.token}`,
        "content-type": "application/json",
        "idempotency-key": crypto.randomUUID(),
      },
      body: JSON.stringify({ text: "the one write" }),
    });
    expect(first.status).toBe(201);
    for (const [method, path] of ROUTES) {
      const r = await headOnly(method, path, { Authorization: `Bearer ${u.token}` });
      expect({ path, status: r.status }).toEqual({ path, status: 429 });
      expect(r.head).toMatch(/retry-after: \d+/);
    }
  });

  test("a signed-in user's multipart upload is still read and handled, spending one write", async () => {
    const u = await db.makeUser();
    const form = new FormData();
    form.append("text", '{"looks": "like json"}');
    const res = await fetch(`http://127.0.0.1:${api.server.port}/posts`, {
      method: "POST",
      headers: { authorization: `Bearer ${u.token}`, "idempotency-key": crypto.randomUUID() },
      body: form,
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { text: string }).text).toBe('{"looks": "like json"}');
    // One write spent, not two: the parse step and the derive share one admission (a second
    // would have been over the limit of one).
    expect(res.headers.get("ratelimit")).toMatch(/^"writes";r=0;/);
  });
});
