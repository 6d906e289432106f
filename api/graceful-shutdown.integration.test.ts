import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import {
  childEnv,
  freePort,
  holdTableLock,
  openTestDb,
  type TestDb,
  waitFor,
  waitsOnLock,
} from "../db/testing.ts";

// The api process itself (`bun api/main.ts`, against the test database and Redis) on SIGTERM:
// it stops accepting connections at once, lets the request in flight finish and answer, closes
// its pools and exits 0; one still running after SHUTDOWN_TIMEOUT_MS is cut off (exit 1). The
// request is held in flight by a lock the test takes on `follows`, which its INSERT waits for.

const root = `${import.meta.dir}/..`;

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(async () => {
  await db.close();
});

let child: ReturnType<typeof Bun.spawn> | null = null;
afterEach(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  child = null;
});

async function startApi(env: Record<string, string>) {
  const port = freePort();
  const proc = Bun.spawn(["bun", "api/main.ts"], {
    cwd: root,
    env: childEnv(db, {
      PORT: String(port),
      LOG_LEVEL: "info",
      // Nothing but the shutdown may end the held request.
      REQUEST_TIMEOUT_MS: "20000",
      IDLE_TIMEOUT_SECONDS: "30",
      DATABASE_STATEMENT_TIMEOUT_MS: "20000",
      ...env,
    }),
    stdout: "pipe",
    stderr: "pipe",
  });
  child = proc;
  const base = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => (await fetch(`${base}/ready`).catch(() => null))?.status === 200,
    20_000,
    "the api process to be ready",
  );
  return { proc, port, base };
}

/** Whether a new TCP connection to the port is refused (nothing listens any more). */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.on("connect", () => {
      s.destroy();
      resolve(false);
    });
    s.on("error", (e: NodeJS.ErrnoException) => resolve(e.code === "ECONNREFUSED"));
  });
}

const waitingOnLock = () => waitsOnLock(db.sql, "%INSERT INTO follows%");

async function follow(base: string) {
  const [a, b] = [await db.makeUser(), await db.makeUser()];
  const res = fetch(`${base}/follows`, {
    method: "POST",
    headers: { authorization: `Bearer ${a.token}`, "content-type": "application/json" },
    body: JSON.stringify({ user_id: b.id }),
  });
  return { res, a, b };
}

describe("api graceful shutdown (SIGTERM)", () => {
  test("refuses new connections, finishes the request in flight with 2xx, closes its pools, exits 0", async () => {
    const { proc, port, base } = await startApi({ SHUTDOWN_TIMEOUT_MS: "20000" });
    // The follow's INSERT waits on this lock for as long as the test holds it.
    const lock = await holdTableLock(db.sql, "follows");
    try {
      const { res, a, b } = await follow(base);
      await waitFor(waitingOnLock, 10_000, "the follow to wait on the lock");

      proc.kill("SIGTERM");
      await waitFor(() => refused(port), 5_000, "new connections to be refused");
      expect(proc.exitCode).toBeNull(); // still draining: the follow is in flight

      await lock.release();
      const answered = await res;
      expect(answered.status).toBe(201);
      expect(await answered.json()).toEqual({ user_id: b.id, following: true });
      const [row] =
        await db.sql`SELECT 1 AS ok FROM follows WHERE follower_id = ${a.id} AND followee_id = ${b.id}`;
      expect(row?.ok).toBe(1);

      expect(await proc.exited).toBe(0);
      const out = await new Response(proc.stdout as ReadableStream).text();
      const lines = out
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.find((l) => l.msg === "SIGTERM: draining")).toMatchObject({ in_flight: 1 });
      expect(lines.at(-1)).toMatchObject({ msg: "stopped" });
    } finally {
      await lock.release();
    }
  }, 60_000);

  test("a request still running after SHUTDOWN_TIMEOUT_MS is cut off and the process exits 1", async () => {
    const { proc, base } = await startApi({ SHUTDOWN_TIMEOUT_MS: "1000" });
    const lock = await holdTableLock(db.sql, "follows");
    try {
      const { res } = await follow(base);
      const outcome = res.then(
        (r) => `answered ${r.status}`,
        () => "cut off",
      );
      await waitFor(waitingOnLock, 10_000, "the follow to wait on the lock");
      const started = performance.now();
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(1);
      // SHUTDOWN_TIMEOUT_MS, then at most the pools' 2 s grace: generous bound.
      expect(performance.now() - started).toBeLessThan(1000 + 2000 + 5000);
      expect(await outcome).toBe("cut off");
    } finally {
      await lock.release();
    }
  }, 60_000);
});
