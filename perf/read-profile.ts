// Profile of cached GET /feed reads (perf/bench-causes.md's method), over warm seeded readers.
//
// In-process (the default): createApp + app.handle, PROFILE_CONCURRENCY at a time, counting per
// read the PostgreSQL statements (postgres.js's debug hook), the Redis commands (ioredis's
// sendCommand) and socket writes to Redis, and the CPU of this process, of this stack's
// PostgreSQL (its postmaster and children, from /proc) and of Redis (INFO cpu). Variants are
// config overrides measured in alternating rounds in one process, so the machine's noise falls
// on all alike:
//
//   bun perf/read-profile.ts [label:VAR=value[,VAR=value…]]…
//   bun perf/read-profile.ts pg:LIKES_CACHE_MAX=0 redis:LIKES_CACHE_MAX=5000
//
// Over HTTP (PROFILE_URL=http://127.0.0.1:PORT, the api of ./dev up): an autocannon closed loop
// of PROFILE_SECONDS per round, with the api's CPU from its /metrics, PostgreSQL transactions
// per read from pg_stat_database (every statement of a cached read is its own transaction) and
// the same PostgreSQL and Redis CPU. The api's code is whatever it runs: PROFILE_LABEL names it.
//
// Needs a seeded development database (./dev seed --users 10000) and the api's JWT_SECRET.
import { readFile } from "node:fs/promises";
import autocannon from "autocannon";
import { createApp } from "../api/app.ts";
import type { Deps } from "../api/deps.ts";
import { createApiMetrics } from "../api/metrics.ts";
import { type Config, loadConfig } from "../core/config.ts";
import { createRedis, type Redis } from "../core/redis.ts";
import { signAccessToken } from "../core/tokens.ts";
import { createSql } from "../db/client.ts";
import { CLK_TCK, postmasterPid, treeSeconds } from "./lib/proc.ts";
import { isActive, type SeedParams, userId } from "./seed/model.ts";
import { phases } from "./seed/sql.ts";

const env = process.env;
const int = (name: string, def: number) => {
  const v = Number(env[name] ?? def);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer`);
  return v;
};
const READERS = int("PROFILE_READERS", 200);
const READS = int("PROFILE_READS", 4000);
const CONCURRENCY = int("PROFILE_CONCURRENCY", 16);
const ROUNDS = int("PROFILE_ROUNDS", 3);
const LIMIT = int("PROFILE_LIMIT", 20);
const SECONDS = int("PROFILE_SECONDS", 10);
const URL_BASE = env.PROFILE_URL;
if (URL_BASE && !/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?$/.test(URL_BASE))
  throw new Error(`PROFILE_URL must be a loopback http://host:port, not ${URL_BASE}`);
// The api's /metrics is on its own port (METRICS_PORT), beside the API's.
const METRICS_URL = env.PROFILE_METRICS_URL ?? "http://127.0.0.1:9102";

// Rate limits off, as on the native stack the bench runs against (./dev exports 0).
const base = loadConfig({ ...env, RATE_LIMIT_READS_PER_MINUTE: "0", RATE_LIMIT_WRITES_PER_MINUTE: "0" });

let statements = 0;
const sql = createSql({ url: base.DATABASE_URL, max: 8, onQuery: () => statements++ });
const plannedSql = createSql({
  url: base.DATABASE_URL,
  max: 4,
  genericPlans: true,
  onQuery: () => statements++,
});
const redis = createRedis(base, "feed-read-profile") as Redis;
let commands = 0;
let writes = 0;
const send = redis.sendCommand.bind(redis);
redis.sendCommand = ((...args: Parameters<typeof send>) => {
  commands++;
  return send(...args);
}) as typeof redis.sendCommand;
await redis.ping();
const stream = (redis as unknown as { stream: { write: (...a: unknown[]) => boolean } }).stream;
const write = stream.write.bind(stream);
stream.write = (...a: unknown[]) => {
  writes++;
  return write(...a);
};

interface Variant {
  label: string;
  app: ReturnType<typeof createApp>;
}

function variantOf(spec: string): Variant {
  const [label, assignments = ""] = spec.split(":");
  const overrides: Record<string, string> = {};
  for (const a of assignments.split(",").filter(Boolean)) {
    const [k, v] = a.split("=");
    if (!k || v === undefined) throw new Error(`bad variant ${spec}: expected label:VAR=value,…`);
    overrides[k] = v;
  }
  const config: Config = loadConfig({
    ...env,
    RATE_LIMIT_READS_PER_MINUTE: "0",
    RATE_LIMIT_WRITES_PER_MINUTE: "0",
    ...overrides,
  });
  const deps: Deps = { sql, plannedSql, redis, config, metrics: createApiMetrics(), log: () => {} };
  return { label: label ?? spec, app: createApp(deps) };
}

/** CPU seconds of this stack's PostgreSQL (its postmaster and backends). */
async function postgresTicks(): Promise<number> {
  return treeSeconds(await postmasterPid(sql));
}

async function redisCpu(): Promise<number> {
  const info = String(await redis.info("cpu"));
  const get = (k: string) => Number(new RegExp(`${k}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  return get("used_cpu_sys") + get("used_cpu_user");
}

async function readers(): Promise<string[]> {
  const seed = await phases(sql);
  const params = [...seed.values()][0]?.params as SeedParams | undefined;
  if (!params) throw new Error("no seed in the development database: ./dev seed --users 10000");
  const out: string[] = [];
  for (let u = 0; u < params.users && out.length < READERS; u++) {
    if (!isActive(params, u)) continue;
    out.push((await signAccessToken(base, userId(u).toString())).token);
  }
  return out;
}

async function readAll(v: Variant, tokens: readonly string[], count: number): Promise<number> {
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < count) {
      const token = tokens[next++ % tokens.length]!;
      const res = await v.app.handle(
        new Request(`http://localhost/feed?limit=${LIMIT}`, {
          headers: { authorization: `Bearer ${token}` },
        }),
      );
      await res.arrayBuffer();
      if (res.status !== 200) failed++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return failed;
}

interface Sample {
  reads: number;
  wallS: number;
  statements: number;
  commands: number;
  writes: number;
  apiS: number;
  pgS: number;
  redisS: number;
}

async function measure(v: Variant, tokens: readonly string[]): Promise<Sample> {
  const [pg0, r0] = [await postgresTicks(), await redisCpu()];
  const [s0, c0, w0] = [statements, commands, writes];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const failed = await readAll(v, tokens, READS);
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const sample = {
    reads: READS,
    wallS,
    statements: statements - s0,
    commands: commands - c0,
    writes: writes - w0,
    apiS: (cpu.user + cpu.system) / 1e6,
    pgS: (await postgresTicks()) - pg0,
    redisS: (await redisCpu()) - r0,
  };
  if (failed) throw new Error(`${v.label}: ${failed} reads failed`);
  return sample;
}

async function inProcess(tokens: readonly string[]) {
  const specs = process.argv.slice(2);
  const variants = (specs.length ? specs : ["as-configured:"]).map(variantOf);
  console.log(
    `read-profile: ${tokens.length} readers, ${READS} reads × ${ROUNDS} rounds per variant, concurrency ${CONCURRENCY}, limit ${LIMIT}`,
  );
  // Warm: every reader's head, bodies, counts, authors (and, where on, liked set), twice.
  for (const v of variants) for (let i = 0; i < 2; i++) await readAll(v, tokens, tokens.length);
  for (const v of variants) await readAll(v, tokens, READS / 4); // JIT warm-up, not recorded

  const samples = new Map<string, Sample[]>(variants.map((v) => [v.label, []]));
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate the order, so neither variant always runs first in a round.
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) samples.get(v.label)!.push(await measure(v, tokens));
  }

  const per = (s: Sample[], f: (x: Sample) => number) =>
    s.reduce((a, x) => a + f(x), 0) / s.reduce((a, x) => a + x.reads, 0);
  const rows = variants.map((v) => {
    const s = samples.get(v.label)!;
    const reads = s.reduce((a, x) => a + x.reads, 0);
    const wall = s.reduce((a, x) => a + x.wallS, 0);
    return {
      variant: v.label,
      "reads/s": Math.round(reads / wall),
      "PG stmts/read": per(s, (x) => x.statements).toFixed(2),
      "Redis cmds/read": per(s, (x) => x.commands).toFixed(2),
      "Redis writes/read": per(s, (x) => x.writes).toFixed(2),
      "api CPU µs/read": Math.round(per(s, (x) => x.apiS) * 1e6),
      "PG CPU µs/read": Math.round(per(s, (x) => x.pgS) * 1e6),
      "Redis CPU µs/read": Math.round(per(s, (x) => x.redisS) * 1e6),
      "total CPU µs/read": Math.round(per(s, (x) => x.apiS + x.pgS + x.redisS) * 1e6),
    };
  });
  console.table(rows);
  console.log(JSON.stringify({ rounds: Object.fromEntries(samples) }));
}

async function metricValue(name: string): Promise<number> {
  const text = await (await fetch(`${METRICS_URL}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`${METRICS_URL}/metrics has no ${name}`);
  return Number(line.split(" ")[1]);
}

async function transactions(): Promise<number> {
  const [row] = await sql<{ n: string }[]>`
    SELECT (xact_commit + xact_rollback)::text AS n FROM pg_stat_database WHERE datname = current_database()`;
  return Number(row!.n);
}

async function machineBusy(): Promise<number> {
  const cpu = (await readFile("/proc/stat", "utf8")).split("\n")[0]!.split(/\s+/).slice(1).map(Number);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  return (cpu.reduce((a, x) => a + x, 0) - idle) / CLK_TCK;
}

async function overHttp(tokens: readonly string[]) {
  const label = env.PROFILE_LABEL ?? "api";
  console.log(
    `read-profile over HTTP (${URL_BASE}, ${label}): ${tokens.length} readers, ${ROUNDS} rounds of ${SECONDS} s, ${CONCURRENCY} connections, limit ${LIMIT}`,
  );
  const path = `/feed?limit=${LIMIT}`;
  for (let i = 0; i < 2; i++)
    for (const token of tokens) {
      const res = await fetch(`${URL_BASE}${path}`, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`warming a reader: ${res.status}`);
    }
  let next = 0;
  const run = (seconds: number) =>
    new Promise<autocannon.Result>((resolve, reject) => {
      autocannon(
        {
          url: URL_BASE!,
          connections: CONCURRENCY,
          duration: seconds,
          timeout: 10,
          requests: [
            {
              setupRequest: (req: autocannon.Request) => ({
                ...req,
                method: "GET",
                path,
                headers: { authorization: `Bearer ${tokens[next++ % tokens.length]}` },
              }),
            },
          ],
        },
        (err, r) => (err ? reject(err) : resolve(r)),
      );
    });
  await run(2); // JIT warm-up, not recorded
  const rows = [];
  for (let round = 0; round < ROUNDS; round++) {
    await Bun.sleep(1500); // pg_stat_database takes up to a second to see the last transactions
    const before = {
      api: await metricValue("process_cpu_seconds_total"),
      pg: await postgresTicks(),
      redis: await redisCpu(),
      xacts: await transactions(),
      machine: await machineBusy(),
      gen: process.cpuUsage(),
    };
    const r = await run(SECONDS);
    const gen = process.cpuUsage(before.gen);
    const machine = (await machineBusy()) - before.machine;
    const api = (await metricValue("process_cpu_seconds_total")) - before.api;
    const pg = (await postgresTicks()) - before.pg;
    const redisS = (await redisCpu()) - before.redis;
    await Bun.sleep(1500);
    const xacts = (await transactions()) - before.xacts;
    const reads = r.requests.total;
    const bad = r.non2xx + r.errors + r.timeouts;
    if (bad) throw new Error(`${bad} of ${reads} reads failed`);
    rows.push({
      round,
      "reads/s": Math.round(reads / r.duration),
      "p50 ms": r.latency.p50,
      "p99 ms": r.latency.p99,
      "PG xacts/read": (xacts / reads).toFixed(2),
      "api CPU µs/read": Math.round((api / reads) * 1e6),
      "PG CPU µs/read": Math.round((pg / reads) * 1e6),
      "Redis CPU µs/read": Math.round((redisS / reads) * 1e6),
      "autocannon CPU µs/read": Math.round(((gen.user + gen.system) / 1e6 / reads) * 1e6),
      "machine busy": `${Math.round((machine / (r.duration * navigator.hardwareConcurrency)) * 100)}%`,
    });
  }
  console.table(rows);
  console.log(JSON.stringify({ label, rows }));
}

const tokens = await readers();
if (URL_BASE) await overHttp(tokens);
else await inProcess(tokens);
await Promise.all([sql.end({ timeout: 5 }), plannedSql.end({ timeout: 5 })]);
redis.disconnect();
