// The baselines every figure of the bench is compared with, measured in the same run: an Elysia
// hello-world, raw COPY, and redis-benchmark.
import autocannon from "autocannon";
import { Elysia } from "elysia";
import { createRedis } from "../../core/redis.ts";
import { parseRedisBenchmarkCsv, type RedisBench, type Throughput } from "../bench-report.ts";
import { userId } from "../seed/model.ts";
import { rawCopyRate } from "../seed/sql.ts";
import { measured } from "./cpu.ts";
import { closedLoop } from "./load.ts";
import { BENCH_DB, type Bench, BenchError, log } from "./settings.ts";

export async function helloWorld(b: Bench): Promise<Throughput & { latenciesMs: number[] }> {
  const app = new Elysia().get("/", () => "hello");
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch });
  const url = `http://127.0.0.1:${server.port}/`;
  try {
    await autocannon({ url, connections: b.s.connections, duration: 1 }); // JIT warm-up, not recorded
    return await measured(b, "hello-world", () =>
      closedLoop(b, "hello-world (baseline)", { url, seconds: b.s.seconds }),
    );
  } finally {
    server.stop(true);
  }
}

export async function copyBaseline(b: Bench): Promise<{ rowsPerS: number; rows: number }> {
  // The seeder's own baseline: 20 000 distinct lines of two bigints, sent 100 times.
  const lines = Array.from({ length: 20_000 }, (_, i) => `${userId(i)}\t${userId((i * 7919) % 1_000_000)}\n`);
  const repeat = 100;
  const rowsPerS = await rawCopyRate(b.sql, lines, repeat);
  log(`raw COPY: ${rowsPerS.toFixed(0)} rows/s`);
  return { rowsPerS, rows: lines.length * repeat };
}

export async function redisBenchmarks(b: Bench): Promise<RedisBench[]> {
  const redisUrl = new URL(b.config.REDIS_URL);
  const db = createRedis(
    { REDIS_URL: Object.assign(new URL(b.config.REDIS_URL), { pathname: `/${BENCH_DB}` }).toString() },
    "feed-bench-db3",
  );
  const str = "bench:get";
  const zset = "bench:zset";
  try {
    // A post-sized string, and a sorted set shaped like a full feed head (300 ids by time).
    await db.set(str, "x".repeat(300));
    const args: (string | number)[] = [];
    for (let i = 0; i < 300; i++)
      args.push(1_790_000_000_000 + i * 1000, String(251_915_363_414_795_699n + BigInt(i)));
    await db.del(zset);
    await db.zadd(zset, ...args);
    const run = (...cmd: string[]): RedisBench => {
      const argv = ["redis-benchmark", "-h", redisUrl.hostname, "-p", redisUrl.port || "6379"];
      if (redisUrl.password) argv.push("-a", decodeURIComponent(redisUrl.password));
      argv.push("--dbnum", String(BENCH_DB), "-n", "200000", "-P", "1", "--csv", ...cmd);
      const p = Bun.spawnSync(argv, { timeout: 60_000 });
      if (p.exitCode !== 0) throw new BenchError(`redis-benchmark failed: ${p.stderr.toString()}`);
      const r = parseRedisBenchmarkCsv(p.stdout.toString())[0];
      if (!r) throw new BenchError(`redis-benchmark printed no result: ${p.stdout.toString()}`);
      log(`redis-benchmark ${r.test}: ${r.rps.toFixed(0)} ops/s`);
      return r;
    };
    return [run("GET", str), run("ZREVRANGE", zset, "0", "19")];
  } finally {
    await db.del(str, zset);
    db.disconnect();
  }
}
