import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";
import { type App, createApp, type Deps } from "../../api/app.ts";
import { createApiMetrics } from "../../api/metrics.ts";
import { createStorage, type Storage } from "../../core/storage.ts";
import { openTestDb, type TestDb } from "../../db/testing.ts";
import { type MockIdp, startMockIdp } from "../../e2e/mock-idp/mock-idp.ts";
import { startTestProjector } from "../../projector/testing.ts";

// What the fuzzer runs against: the api in-process (app.handle, the same fetch handler main.ts
// serves) on real PostgreSQL and Redis, a real S3 API (s3rver), the mock identity provider as the
// `oidc` provider, and a projector consuming what the requests publish. Servers listen on
// ephemeral loopback ports, so a run never collides with a stack or a suite beside it.

export interface FuzzTarget {
  db: TestDb;
  app: App;
  deps: Deps;
  /**
   * Every request of the run goes through this (app.handle); a test replaces it with a broken
   * one to show that the oracle notices.
   */
  handle: (r: Request) => Promise<Response>;
  storage: Storage;
  projector: Awaited<ReturnType<typeof startTestProjector>>;
  idp: MockIdp;
  /** Unhandled errors the app logged (each is also a 500 the oracle sees). */
  errors: Record<string, unknown>[];
  close(): Promise<void>;
}

/**
 * `overrides` go to the config (the CLI's own database and Redis database). Both are emptied
 * before the projector starts: streams left by an earlier run would name objects gone with its S3.
 */
export async function openFuzzTarget(overrides: Record<string, string> = {}): Promise<FuzzTarget> {
  const dir = join(tmpdir(), `feed-fuzz-s3-${process.pid}-${Date.now()}`);
  const s3 = new S3rver({
    port: 0,
    address: "127.0.0.1",
    silent: true,
    directory: dir,
    configureBuckets: [{ name: "feed-fuzz", configs: [] }],
  });
  const { port } = await s3.run();
  const idp = await startMockIdp(0);
  const db = await openTestDb({
    S3_ENDPOINT: `http://127.0.0.1:${port}`,
    S3_KEY: "S3RVER",
    S3_SECRET: "S3RVER",
    S3_BUCKET: "feed-fuzz",
    OIDC_ISSUER: idp.issuer,
    OIDC_CLIENT_ID: "feed-fuzz",
    OIDC_CLIENT_SECRET: "feed-fuzz-secret",
    PUBLIC_URL: "http://localhost:3999",
    // Thousands of requests by one user in seconds: limits would answer most of them 429.
    RATE_LIMIT_READS_PER_MINUTE: "0",
    RATE_LIMIT_WRITES_PER_MINUTE: "0",
    RATE_LIMIT_AUTH_PER_MINUTE: "0",
    ...overrides,
  });
  await db.reset();
  const storage = createStorage(db.config)!;
  const errors: Record<string, unknown>[] = [];
  const deps: Deps = {
    sql: db.sql,
    redis: db.redis,
    config: db.config,
    metrics: createApiMetrics(),
    storage,
    log: (l) => {
      if (l.level === "error") errors.push(l);
    },
  };
  const app = createApp(deps);
  const projector = await startTestProjector(db, { storage });
  return {
    db,
    app,
    deps,
    handle: (r) => app.handle(r),
    storage,
    projector,
    idp,
    errors,
    async close() {
      await projector.stop();
      storage.close();
      await db.close();
      await idp.stop();
      await s3.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
