import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openTestDb, type TestDb } from "../db/testing.ts";
import { runScenario } from "../perf/cluster/scenario.ts";
import { portInUse, Stack } from "../perf/cluster/stack.ts";

// Scale-out on one box: a 3-master Redis Cluster on loopback, two api and two
// projector processes on it, and the correctness scenario of perf/cluster/scenario.ts over HTTP
// (writes through one api, reads through the other). Its own ports and its own processes; the
// test database (TEST_DATABASE_URL), emptied first. Bounded: well under a minute here.

const REDIS_PORTS = [7201, 7202, 7203];
const API_PORTS = [3201, 3202];
const PROJECTOR_PORTS = [9211, 9212];
const nodes = REDIS_PORTS.map((p) => `127.0.0.1:${p}`).join(",");

const hasRedis = Bun.which("redis-server") !== null && Bun.which("redis-cli") !== null;
if (!hasRedis)
  console.warn("cluster e2e skipped: redis-server and redis-cli are not installed (./dev installs them)");

let stack: Stack;
let db: TestDb;
const dir = join(tmpdir(), `feed-cluster-e2e-${process.pid}`);

describe.skipIf(!hasRedis)("2 apis + 2 projectors on a 3-master Redis Cluster", () => {
  beforeAll(async () => {
    const busy = [];
    for (const p of [...REDIS_PORTS, ...API_PORTS, ...PROJECTOR_PORTS]) if (await portInUse(p)) busy.push(p);
    if (busy.length) throw new Error(`ports in use on 127.0.0.1: ${busy.join(", ")} (another run?)`);
    stack = new Stack(dir);
    stack.startRedis(REDIS_PORTS, { cluster: true });
    await stack.createCluster(REDIS_PORTS);
    db = await openTestDb({ REDIS_CLUSTER_NODES: nodes });
    await db.reset();
    const c = db.config;
    const env = {
      NODE_ENV: "test",
      LOG_LEVEL: "warn",
      DATABASE_URL: c.DATABASE_URL,
      DATABASE_POOL_SIZE: "5",
      REDIS_CLUSTER_NODES: nodes,
      JWT_SECRET: c.JWT_SECRET,
      JWT_AUDIENCE: c.JWT_AUDIENCE,
      PUBLIC_URL: c.PUBLIC_URL,
      METRICS_PORT: "0",
      STREAM_PARTITIONS: String(c.STREAM_PARTITIONS),
      // Small thresholds, so the scenario's authors take every fan-out path: inline push, the
      // lane (more than 8 followers) and pull (more than 20: the scenario's first user).
      FANOUT_INLINE_MAX: "8",
      FANOUT_PULL_THRESHOLD: "20",
    };
    await Promise.all([
      ...API_PORTS.map((port, i) =>
        stack.startService(
          `api-${i + 1}`,
          "api/main.ts",
          { ...env, PORT: String(port) },
          `http://127.0.0.1:${port}/ready`,
        ),
      ),
      ...PROJECTOR_PORTS.map((port, i) =>
        stack.startService(
          `projector-${i + 1}`,
          "projector/main.ts",
          { ...env, PROJECTOR_METRICS_PORT: String(port) },
          `http://127.0.0.1:${port}/ready`,
        ),
      ),
    ]);
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
    await db?.close();
  }, 30_000);

  test("every post in every follower's feed exactly once; counts exact; nothing pending; DLQ empty", async () => {
    const result = await runScenario({
      apiA: `http://127.0.0.1:${API_PORTS[0]}`,
      apiB: `http://127.0.0.1:${API_PORTS[1]}`,
      projectors: PROJECTOR_PORTS.map((p) => `http://127.0.0.1:${p}`),
      sql: db.sql,
      redis: db.redis,
      config: db.config,
      users: 30,
    });
    for (const c of result.checks) console.log(`${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`);
    const failed = result.checks.filter((c) => !c.ok);
    if (failed.length) console.error(`cluster scenario failed; logs in ${dir}`, failed);
    expect(failed).toEqual([]);
    expect(result.checks.length).toBeGreaterThanOrEqual(8);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);
});
