import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { tmpdir } from "node:os";
import { Stack } from "../perf/cluster/stack.ts";
import {
  createBlockingRedis,
  createRedis,
  duplicateRedis,
  isCluster,
  mgetMany,
  type RedisClient,
  runCommands,
} from "./redis.ts";

// core/redis.ts's cluster paths in-process, against a real 3-master Redis Cluster on loopback
// (the scale-out e2e drives whole services on one; this measures the helpers themselves).

setDefaultTimeout(60_000);
const PORTS = [7311, 7312, 7313];
let stack: Stack;
let redis: RedisClient;
const target = {
  REDIS_URL: "redis://unused",
  REDIS_CLUSTER_NODES: PORTS.map((port) => ({ host: "127.0.0.1", port })),
};

beforeAll(async () => {
  stack = new Stack(`${tmpdir()}/feed-redis-cluster-test-${process.pid}`);
  stack.startRedis(PORTS, { cluster: true });
  await stack.createCluster(PORTS);
  redis = createRedis(target, "feed-test-cluster");
});
afterAll(async () => {
  redis?.disconnect();
  await stack?.stop();
});

describe("Redis Cluster helpers", () => {
  test("MGET and independent commands across slots come back in order", async () => {
    expect(isCluster(redis)).toBe(true);
    const keys = Array.from({ length: 40 }, (_, i) => `k:{${i}}`);
    const set = await runCommands(
      redis,
      keys.map((k, i) => ["set", k, `v${i}`]),
    );
    expect(set.every(([err, reply]) => err === null && reply === "OK")).toBe(true);
    expect(await mgetMany(redis, [...keys, "k:{missing}"])).toEqual([...keys.map((_, i) => `v${i}`), null]);
    expect(await mgetMany(redis, [])).toEqual([]);
    expect(await runCommands(redis, [])).toEqual([]);
    // A failing command answers its own error, in its place.
    const mixed = await runCommands(redis, [
      ["get", "k:{0}"],
      ["hget", "k:{1}", "f"],
    ]);
    expect(mixed[0]).toEqual([null, "v0"]);
    expect(String(mixed[1]![0])).toContain("WRONGTYPE");
  });

  test("duplicate and blocking clients reach the same cluster", async () => {
    const other = duplicateRedis(redis);
    const blocking = createBlockingRedis(target, "feed-test-cluster-blocking");
    try {
      expect(isCluster(other) && isCluster(blocking)).toBe(true);
      expect(await other.get("k:{2}")).toBe("v2");
      expect(await blocking.get("k:{3}")).toBe("v3");
    } finally {
      other.disconnect();
      blocking.disconnect();
    }
  });
});
