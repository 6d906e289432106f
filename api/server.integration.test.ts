import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { earliestIdleCloseMs } from "../core/config.ts";
import { holdTableLock, openTestDb, type TestDb, waitFor } from "../db/testing.ts";
import { createApp } from "./app.ts";
import type { Deps } from "./deps.ts";
import { createApiMetrics } from "./metrics.ts";
import { type ApiServer, serveApi } from "./server.ts";

// The api's real HTTP server (serveApi around createApp, on a free port) spoken to over raw TCP:
// slow clients are disconnected while others are served, over-long requests get their 408 /
// 413 / 414 / 431, a held handler its 503, and what Bun refuses by itself is refused promptly.

// Bun's timers tick every 4 s, so idleTimeout 8 closes a connection after 4-8 s: the deadline
// (1.5 s) always comes first.
const IDLE_S = 8;
const DEADLINE_MS = 1500;
/** Bun closes a connection whose request line and headers are not complete within 8-12 s. */
const BUN_HEADER_TIMEOUT_S = 12;
/** The generous bound on every disconnection below. */
const SLACK_MS = 5000;

let db: TestDb;
let api: ApiServer;
let deps: Deps;
let base: string;

beforeAll(async () => {
  db = await openTestDb({
    IDLE_TIMEOUT_SECONDS: String(IDLE_S),
    REQUEST_TIMEOUT_MS: String(DEADLINE_MS),
    RATE_LIMIT_AUTH_PER_MINUTE: "2",
    TRUSTED_PROXIES: "0",
  });
  deps = { sql: db.sql, redis: db.redis, config: db.config, metrics: createApiMetrics() };
  api = serveApi(createApp(deps), deps, { port: 0, hostname: "127.0.0.1", log: () => {} });
  base = `http://127.0.0.1:${api.server.port}`;
});
afterAll(async () => {
  await api.server.stop(true);
  await db.close();
});
beforeEach(async () => {
  await db.reset();
});

interface RawResult {
  /** Everything the server sent before closing. */
  text: string;
  status: number | null;
  closedAfterMs: number;
}

/** Opens a raw connection, lets `drive` write to it, and resolves when the server closes it. */
function raw(drive: (s: Socket) => void, giveUpMs = 30_000): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const s = connect(api.server.port!, "127.0.0.1");
    let text = "";
    const guard = setTimeout(() => {
      s.destroy();
      reject(new Error(`still open after ${giveUpMs} ms; received ${JSON.stringify(text.slice(0, 200))}`));
    }, giveUpMs);
    s.on("data", (d) => {
      text += d.toString("latin1");
    });
    s.on("error", () => {});
    s.on("close", () => {
      clearTimeout(guard);
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ text, status: m ? Number(m[1]) : null, closedAfterMs: performance.now() - started });
    });
    s.on("connect", () => drive(s));
  });
}

/** One complete request on its own connection, `Connection: close`. */
const send = (request: string) => raw((s) => s.write(request), 10_000);

const bodyOf = (r: RawResult) => r.text.slice(r.text.indexOf("\r\n\r\n") + 4);
const headerOf = (r: RawResult, name: string) =>
  new RegExp(`^${name}: (.*)$`, "im").exec(r.text.slice(0, r.text.indexOf("\r\n\r\n")))?.[1]?.trim() ?? null;

/** GET /health every 200 ms while `during` runs: the others a slow client must not starve. */
async function servedMeanwhile<T>(during: Promise<T>): Promise<{ result: T; statuses: number[] }> {
  const statuses: number[] = [];
  let done = false;
  const probe = (async () => {
    while (!done) {
      const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(2000) }).catch(() => null);
      statuses.push(res?.status ?? 0);
      await Bun.sleep(200);
    }
  })();
  const result = await during.finally(() => {
    done = true;
  });
  await probe;
  return { result, statuses };
}

describe("slow clients", () => {
  test("headers sent a byte at a time are cut off while other requests are served", async () => {
    const request = `GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ${"a".repeat(500)}\r\n\r\n`;
    let timer: ReturnType<typeof setInterval> | undefined;
    let sent = 0;
    const { result, statuses } = await servedMeanwhile(
      raw((s) => {
        timer = setInterval(() => {
          if (!s.destroyed && sent < request.length) s.write(request[sent++]!);
        }, 250);
      }),
    );
    clearInterval(timer);
    // Bun stops waiting for headers after its own timeout, which idleTimeout does not change.
    expect(result.closedAfterMs).toBeLessThan(Math.max(IDLE_S, BUN_HEADER_TIMEOUT_S) * 1000 + SLACK_MS);
    expect(sent).toBeLessThan(request.length); // it never finished its headers
    expect(result.status).toBeNull(); // and never got an answer
    expect(statuses.length).toBeGreaterThan(5);
    expect(statuses.every((s) => s === 200)).toBe(true);
  }, 30_000);

  test("a body that never finishes gets 408 at the deadline and is disconnected", async () => {
    const { result, statuses } = await servedMeanwhile(
      raw((s) =>
        s.write(
          "POST /auth/refresh HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
            'Content-Length: 100\r\n\r\n{"refresh_token":"',
        ),
      ),
    );
    expect(result.status).toBe(408);
    expect(headerOf(result, "content-type")).toBe("application/problem+json");
    expect(JSON.parse(bodyOf(result))).toMatchObject({ status: 408, code: "request_body_timeout" });
    expect(result.closedAfterMs).toBeGreaterThanOrEqual(DEADLINE_MS - 100);
    expect(result.closedAfterMs).toBeLessThan(DEADLINE_MS + SLACK_MS);
    expect(statuses.every((s) => s === 200)).toBe(true);
  }, 30_000);

  test("a chunked body that trickles is cut off the same way", async () => {
    let timer: ReturnType<typeof setInterval> | undefined;
    const result = await raw((s) => {
      s.write(
        "POST /auth/refresh HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
      );
      timer = setInterval(() => !s.destroyed && s.write("1\r\n \r\n"), 300);
    });
    clearInterval(timer);
    expect(result.status).toBe(408);
    expect(result.closedAfterMs).toBeLessThan(DEADLINE_MS + SLACK_MS);
  }, 30_000);

  test("an idle keep-alive connection is closed after IDLE_TIMEOUT_SECONDS", async () => {
    const result = await raw((s) => s.write("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n"));
    expect(result.status).toBe(200);
    expect(result.closedAfterMs).toBeGreaterThanOrEqual(earliestIdleCloseMs(IDLE_S) - 100);
    expect(result.closedAfterMs).toBeLessThan(IDLE_S * 1000 + SLACK_MS);
  }, 30_000);
});

describe("oversized requests over HTTP", () => {
  test("a chunked JSON body past MAX_JSON_BODY_BYTES: 413 problem, and the connection is closed", async () => {
    let timer: ReturnType<typeof setInterval> | undefined;
    const chunk = "x".repeat(8192);
    const result = await raw((s) => {
      s.write(
        "POST /auth/refresh HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
      );
      // Far more than the 64 KiB limit, for as long as the connection lasts.
      timer = setInterval(() => !s.destroyed && s.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`), 10);
    });
    clearInterval(timer);
    expect(result.status).toBe(413);
    expect(JSON.parse(bodyOf(result))).toMatchObject({ code: "payload_too_large" });
    expect(result.closedAfterMs).toBeLessThan(SLACK_MS);
  });

  test("a declared body over the limit is refused before it is sent (fetch)", async () => {
    const res = await fetch(`${base}/auth/refresh`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: "r".repeat(70_000) }),
    });
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });

  test("headers and URLs over our limits get problem+json; over Bun's, Bun's own bare 431, never a 5xx or a hang", async () => {
    const get = (target: string, extra = "") =>
      send(`GET ${target} HTTP/1.1\r\nHost: localhost\r\n${extra}Connection: close\r\n\r\n`);
    const many = (n: number) => Array.from({ length: n }, (_, i) => `X-H${i}: v\r\n`).join("");

    const ours = [
      await get("/health", `X-Big: ${"a".repeat(10_000)}\r\n`),
      await get("/health", many(150)),
      await get(`/health?q=${"a".repeat(5000)}`),
    ];
    expect(ours.map((r) => r.status)).toEqual([431, 431, 414]);
    for (const r of ours) {
      expect(headerOf(r, "content-type")).toBe("application/problem+json");
      expect(headerOf(r, "x-content-type-options")).toBe("nosniff");
    }
    expect(JSON.parse(bodyOf(ours[0]!))).toMatchObject({ code: "header_fields_too_large" });
    expect(JSON.parse(bodyOf(ours[2]!))).toMatchObject({ code: "uri_too_long" });

    // Past Bun's own limits (16 KiB of request line and headers; about 200 fields) the app never
    // sees the request: Bun answers a bare 431 and closes, at once.
    const bun = [
      await get("/health", `X-Big: ${"a".repeat(20_000)}\r\n`),
      await get("/health", many(300)),
      await get(`/health?q=${"a".repeat(17_000)}`),
    ];
    for (const r of bun) {
      expect(r.status).toBe(431);
      expect(r.closedAfterMs).toBeLessThan(SLACK_MS);
    }
    // The server is none the worse for it.
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });
});

describe("request deadline", () => {
  test("a handler held past REQUEST_TIMEOUT_MS answers 503 request_timeout, and others are still served", async () => {
    const [a, b] = [await db.makeUser(), await db.makeUser()];
    // The follow's INSERT waits on this lock for as long as the test holds it.
    const lock = await holdTableLock(db.sql, "follows");
    try {
      const started = performance.now();
      const { result: res, statuses } = await servedMeanwhile(
        fetch(`${base}/follows`, {
          method: "POST",
          headers: { authorization: `Bearer ${a.token}`, "content-type": "application/json" },
          body: JSON.stringify({ user_id: b.id }),
        }),
      );
      const took = performance.now() - started;
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("1");
      expect(await res.json()).toMatchObject({ code: "request_timeout", instance: "/follows" });
      expect(took).toBeGreaterThanOrEqual(DEADLINE_MS - 100);
      expect(took).toBeLessThan(DEADLINE_MS + SLACK_MS);
      expect(statuses.every((s) => s === 200)).toBe(true);
      expect(await deps.metrics.registry.getSingleMetricAsString("http_request_timeouts_total")).toContain(
        'phase="handler"',
      );
    } finally {
      await lock.release();
    }
    // The handler goes on after its deadline answered: its follow commits now. Wait for it, or
    // the next test's TRUNCATE meets its transaction (a deadlock, seen in a full run).
    await waitFor(
      async () => (await db.sql`SELECT 1 FROM follows WHERE follower_id = ${a.id}`).length === 1,
      5000,
      "the held follow to commit",
    );
  });
});

describe("the client's address", () => {
  test("handlers see the socket's address (per-IP sign-in limits are per client, not one shared bucket)", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${base}/auth/providers`)).status);
    expect(statuses).toEqual([200, 200, 429]);
    await waitFor(async () => (await db.redisKeys()).some((k) => k.startsWith("rate:auth:")), 2000);
    const keys = (await db.redisKeys()).filter((k) => k.startsWith("rate:auth:"));
    expect(keys).toHaveLength(1);
    expect(keys[0]).toContain("127.0.0.1");
  });
});

describe("drain()", () => {
  test("refuses new connections, waits for the request in flight, and says whether it finished in time", async () => {
    const lifecycle = { draining: false };
    const own = { ...deps, lifecycle };
    const server = serveApi(createApp(own), own, { port: 0, hostname: "127.0.0.1", log: () => {} });
    const url = `http://127.0.0.1:${server.server.port}`;
    const [a, b, c] = [await db.makeUser(), await db.makeUser(), await db.makeUser()];
    const lock = await holdTableLock(db.sql, "follows");
    const followOf = (who: { token: string }, whom: { id: string }) =>
      fetch(`${url}/follows`, {
        method: "POST",
        headers: { authorization: `Bearer ${who.token}`, "content-type": "application/json" },
        body: JSON.stringify({ user_id: whom.id }),
      });
    try {
      const inFlight = followOf(a, b);
      await waitFor(() => server.server.pendingRequests === 1, 5000, "the follow to be in flight");
      const drained = server.drain(10_000);
      expect(lifecycle.draining).toBe(true);
      expect(
        await fetch(`${url}/health`).then(
          () => "connected",
          () => "refused",
        ),
      ).toBe("refused");
      await lock.release();
      const res = await inFlight;
      expect(res.status).toBe(201);
      expect(await drained).toBe(true);
    } finally {
      await lock.release();
    }

    // A request still running when the time is up is cut off.
    const second = serveApi(createApp(own), own, { port: 0, hostname: "127.0.0.1", log: () => {} });
    const lock2 = await holdTableLock(db.sql, "follows");
    try {
      const cut = fetch(`http://127.0.0.1:${second.server.port}/follows`, {
        method: "POST",
        headers: { authorization: `Bearer ${c.token}`, "content-type": "application/json" },
        body: JSON.stringify({ user_id: a.id }),
      }).then(
        (r) => r.status,
        () => "cut off",
      );
      await waitFor(() => second.server.pendingRequests === 1, 5000, "the follow to be in flight");
      expect(await second.drain(300)).toBe(false);
      expect(await cut).toBe("cut off");
    } finally {
      await lock2.release();
    }
    // The cut-off handler still runs to its end (JavaScript cannot stop it): let it publish
    // before the suite closes Redis under it.
    await waitFor(
      async () =>
        (await db.sql`SELECT 1 FROM follows WHERE follower_id = ${c.id}`).length === 1 &&
        (await db.sql`SELECT 1 FROM outbox WHERE published_at IS NULL`).length === 0,
      5000,
      "the late follow to be committed and published",
    );
  });
});
