import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { testApp } from "../api/testing.ts";
import { GROUPS, streamNames } from "../core/streams.ts";
import {
  childEnv,
  freePort,
  holdTableLock,
  openTestDb,
  type TestDb,
  waitFor,
  waitsOnLock,
} from "../db/testing.ts";

// The projector process itself (`bun projector/main.ts`) on SIGTERM: the entry in hand is
// finished and acknowledged before it exits 0. The entry is held in hand by a lock the test
// takes on user_stats, which the UserFollowed handler's counter update waits for.

const root = `${import.meta.dir}/..`;

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb();
  await db.reset();
});
afterAll(async () => {
  await db.close();
});

let child: ReturnType<typeof Bun.spawn> | null = null;
afterEach(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  child = null;
});

async function pending(): Promise<number> {
  let n = 0;
  for (const s of streamNames(db.config.STREAM_PARTITIONS)) {
    const summary = (await db.redis.xpending(s, GROUPS.projector).catch(() => [0])) as [number];
    n += Number(summary[0] ?? 0);
  }
  return n;
}

describe("projector graceful shutdown (SIGTERM)", () => {
  test("finishes and acknowledges the entry in hand, then exits 0", async () => {
    const port = freePort();
    const proc = Bun.spawn(["bun", "projector/main.ts"], {
      cwd: root,
      env: childEnv(db, { PROJECTOR_METRICS_PORT: String(port), SHUTDOWN_TIMEOUT_MS: "20000" }),
      stdout: "pipe",
      stderr: "pipe",
    });
    child = proc;
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${port}/ready`).catch(() => null))?.status === 200,
      20_000,
      "the projector process to be ready",
    );

    const api = testApp(db);
    const [a, b] = [await db.makeUser(), await db.makeUser()];
    const lock = await holdTableLock(db.sql, "user_stats");
    try {
      expect((await api.call("POST", "/follows", { token: a.token, json: { user_id: b.id } })).status).toBe(
        201,
      );
      await waitFor(() => waitsOnLock(db.sql, "%user_stats%"), 10_000, "the handler to wait on the lock");
      expect(await pending()).toBe(1);

      proc.kill("SIGTERM");
      await Bun.sleep(300);
      expect(proc.exitCode).toBeNull(); // the entry is still in hand

      await lock.release();
      expect(await proc.exited).toBe(0);
      expect(await pending()).toBe(0);
      const [stats] = await db.sql`SELECT followers_count::int AS n FROM user_stats WHERE user_id = ${b.id}`;
      expect(stats?.n).toBe(1);
    } finally {
      await lock.release();
    }
  }, 60_000);
});
