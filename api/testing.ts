import S3rver from "s3rver";
import { childEnv, freePort, type TestDb, waitFor } from "../db/testing.ts";
import { createApp } from "./app.ts";
import type { ApiHooks, Deps } from "./deps.ts";
import { ReaderTouches } from "./feed/reader-touches.ts";
import { createMemoryCache } from "./hydrate/memory.ts";
import { createApiMetrics } from "./metrics.ts";

// Drives createApp in-process with app.handle(new Request(…)), against the test database.

export interface TestResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export function testApp(db: TestDb, hooks: ApiHooks = {}, extra: Partial<Deps> = {}) {
  // As in main.ts: memory is used once subscribed to the invalidation channel.
  const memory = createMemoryCache(db.config);
  void memory.subscribe(db.redis);
  db.onClose(async () => memory.close());
  const deps: Deps = {
    sql: db.sql,
    redis: db.redis,
    config: db.config,
    metrics: createApiMetrics(),
    hooks,
    memory,
    ...extra,
    // A test that reads the log passes its own (extra.log); otherwise errors are printed.
    log: extra.log ?? ((l) => l.level === "error" && console.error(l)),
  };
  // As in main.ts: readers' first reads of the day are written in batches; tests that look at
  // feed_readers call deps.touches.flush() first (or pass extra.touches: undefined).
  // Unlike main.ts, each command marks its own outbox rows published unless extra.publishedMarks
  // is given: tests count a request's statements, and a batched UPDATE could land in another's.
  if (!("touches" in extra)) {
    const touches = new ReaderTouches(deps);
    deps.touches = touches;
    db.onClose(async () => touches.flush().catch(() => {}));
  }
  const app = createApp(deps);
  // biome-ignore lint/suspicious/noExplicitAny: tests read loosely typed JSON bodies
  async function call<T = any>(
    method: string,
    path: string,
    opts: { token?: string; json?: unknown; body?: string; headers?: Record<string, string> } = {},
  ): Promise<TestResponse<T>> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined = opts.body;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers["content-type"] ??= "application/json";
    }
    const res = await app.handle(new Request(`http://localhost${path}`, { method, headers, body }));
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {}
    return { status: res.status, headers: res.headers, body: parsed as T };
  }
  return { app, deps, call };
}

/**
 * A real api process (`bun api/main.ts`) on a free port against the test database and Redis,
 * ready when this resolves; `extra` goes into its environment. The caller kills it.
 */
export async function spawnApi(
  db: TestDb,
  extra: Record<string, string> = {},
): Promise<{ proc: ReturnType<typeof Bun.spawn>; base: string }> {
  const port = freePort();
  const proc = Bun.spawn(["bun", "api/main.ts"], {
    cwd: `${import.meta.dir}/..`,
    env: childEnv(db, { PORT: String(port), ...extra }),
    stdout: "ignore",
    stderr: "inherit",
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => (await fetch(`${base}/ready`).catch(() => null))?.status === 200,
    20_000,
    `the api at ${base} to be ready`,
  );
  return { proc, base };
}

/**
 * A local S3 API (s3rver) on `port` with one bucket, and the settings that point a config or a
 * spawned process at it. The caller closes it.
 */
export async function startTestS3(
  port: number,
  bucket: string,
): Promise<{ env: Record<string, string>; dir: string; close(): Promise<void> }> {
  // Where s3rver keeps the objects: <dir>/<bucket>/<key>…
  const dir = `/tmp/feed-test-s3-${bucket}-${process.pid}`;
  const s3 = new S3rver({
    port,
    address: "127.0.0.1",
    silent: true,
    directory: dir,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  await s3.run();
  return {
    env: {
      S3_ENDPOINT: `http://127.0.0.1:${port}`,
      S3_KEY: "S3RVER",
      S3_SECRET: "S3RVER",
      S3_BUCKET: bucket,
    },
    dir,
    close: () => s3.close(),
  };
}
