// The benchmark (issue 6, `./dev bench`): the feed service on the 1M-user seed against
// baselines measured in the same run (an Elysia hello-world, raw COPY, redis-benchmark), as
// ratios, because the machine is shared and absolute numbers drift. Writes
// perf/reports/<date>.md with its charts, and the raw figures to perf/results/. Traffic goes to
// loopback only and every run is bounded in time and count. What each step measures and why is
// in perf/README.md; the pure parts (parsing, goals, report, charts) are in bench-report.ts.
import { mkdir, readdir, readFile } from "node:fs/promises";
import autocannon from "autocannon";
import { Elysia } from "elysia";
import sharp from "sharp";
import { loadConfig } from "../core/config.ts";
import { ID_EPOCH_MS, timestampOf } from "../core/ids.ts";
import { createRedis, runCommands } from "../core/redis.ts";
import { keys } from "../core/redis-keys.ts";
import { signAccessToken } from "../core/tokens.ts";
import { followersSample, usersByFollowers } from "../db/bench.ts";
import { createSql } from "../db/client.ts";
import { fanoutJobCount } from "../db/projections.ts";
import { phases, rawCopyRate } from "../db/seed.ts";
import { lagChartSvg, latencyChartSvg } from "./bench-charts.ts";
import {
  type BenchResults,
  type CpuSplit,
  type CpuUsed,
  checkGoals,
  cpuSplit,
  dueCount,
  failedCount,
  formatBenchReport,
  GOALS,
  outsideShare,
  parsePidStat,
  parseProcStat,
  parseRedisBenchmarkCsv,
  parseRedisInfo,
  type RatePoint,
  type RedisBench,
  reportNames,
  summarize,
  sweepRates,
  type Throughput,
  ticksBetween,
} from "./bench-report.ts";
import { parsePromText, requestKind, snapshotOf, sumOf } from "./load-report.ts";
import { isActive, postId, postSchedule, type SeedParams, userId, userIdRange } from "./seed/model.ts";

const config = loadConfig();
const env = process.env;
const LOOPBACK = /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/;
const base = env.BENCH_BASE_URL ?? `http://127.0.0.1:${config.PORT}`;
const projectorUrl = env.BENCH_PROJECTOR_URL ?? `http://127.0.0.1:${config.PROJECTOR_METRICS_PORT}`;
// The api serves /metrics on a port of its own (METRICS_PORT), not beside the API.
const apiMetricsUrl = env.BENCH_API_METRICS_URL ?? `http://127.0.0.1:${config.METRICS_PORT}`;
const redisUrl = new URL(config.REDIS_URL);
for (const url of [base, projectorUrl, apiMetricsUrl, `http://${redisUrl.host}`])
  if (!LOOPBACK.test(url)) throw new Error(`bench targets loopback only, not ${url}`);

const int = (name: string, def: number, min: number) => {
  const v = Number(env[name] ?? def);
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer ≥ ${min}`);
  return v;
};
/** Length of each closed-loop run and of each step of the sweep. */
const SECONDS = int("BENCH_SECONDS", 10, 1);
const CONNECTIONS = int("BENCH_CONNECTIONS", 16, 1);
const CACHED_READERS = int("BENCH_CACHED_READERS", 300, 10);
const COLD_READERS = int("BENCH_COLD_READERS", 3000, 10);
// Enough posts for seconds of fan-out (sustained), not a burst that startup latency dominates.
const FANOUT_POSTS = int("BENCH_FANOUT_POSTS", 600, 1);
const LAG_SAMPLE = int("BENCH_LAG_SAMPLE", 250, 1);
const LAG_POLLERS = int("BENCH_LAG_POLLERS", 8, 1);
/** The cached-read load beside the lag's pollers (who read warm heads too), as a share of the maximum. */
const LAG_LOAD_SHARE = 0.3;
const LAG_DEADLINE_S = int("BENCH_LAG_DEADLINE", 30, 5);
const WAIT_QUIET_S = int("BENCH_WAIT_QUIET", 120, 0);
/** Busy share of the cores (the stack idle) under which the machine counts as quiet. */
const QUIET_BUSY = 0.25;
const REPORT_DIR = env.BENCH_REPORT_DIR ?? `${import.meta.dir}/reports`;
const RESULTS_DIR = `${import.meta.dir}/results`;
/** Shares of the closed-loop maximum offered in the latency sweep; 0.7 is the goal's point. */
const SWEEP = [0.2, 0.4, 0.6, 0.7, 0.8, 1.0];
/** Requests waiting at once in the pacer; past this the service has fallen far behind. */
const MAX_IN_FLIGHT = 256;
/** The redis-benchmark database: not 0 (the stack) nor 1 (the tests). */
const BENCH_DB = 3;
const CORES = navigator.hardwareConcurrency;
const CLK_TCK = (() => {
  const out = Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim();
  return Number(out) > 0 ? Number(out) : 100;
})();

const sql = createSql({ url: config.DATABASE_URL, max: 4 });
const redis = createRedis(config, "feed-bench");

class BenchError extends Error {}

const log = (msg: string) => console.log(`bench: ${msg}`);
const elapsedS = (t0: number) => (performance.now() - t0) / 1000;

// ---------------------------------------------------------------- who to act as

interface Actor {
  id: string;
  token: string;
}

async function actors(ids: readonly string[]): Promise<Actor[]> {
  return Promise.all(ids.map(async (id) => ({ id, token: (await signAccessToken(config, id)).token })));
}

/** Active seeded users (their feeds are materialized), walking up from `from`, skipping `taken`. */
function activeUsers(p: SeedParams, from: number, count: number, taken: Set<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < p.users && out.length < count; i++) {
    const u = (from + i) % p.users;
    if (!taken.has(u) && isActive(p, u)) {
      out.push(u);
      taken.add(u);
    }
  }
  return out;
}

/** Seeded user index of an id (the seeder puts user i at millisecond i + 1 after the id epoch). */
const indexOf = (id: string) => timestampOf(id) - ID_EPOCH_MS - 1;

const auth = (a: Actor) => ({ authorization: `Bearer ${a.token}` });

// ---------------------------------------------------------------- load generators

/** A closed loop through autocannon; every response's status and time recorded here. */
async function closedLoop(
  name: string,
  o: {
    url?: string;
    seconds: number;
    amount?: number;
    connections?: number;
    overallRate?: number;
    build?: (n: number, req: autocannon.Request) => autocannon.Request;
  },
): Promise<Throughput & { latenciesMs: number[] }> {
  const latenciesMs: number[] = [];
  const statuses: Record<string, number> = {};
  let sent = 0;
  const t0 = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: o.url ?? base,
        connections: o.connections ?? CONNECTIONS,
        // autocannon ignores duration when amount is set: the timer below bounds that case.
        ...(o.amount ? { amount: o.amount } : { duration: o.seconds }),
        ...(o.overallRate ? { overallRate: o.overallRate } : {}),
        timeout: 10,
        ...(o.build
          ? { requests: [{ setupRequest: (req: autocannon.Request) => o.build!(sent++, req) }] }
          : {}),
      },
      (err, r) => (err ? reject(err) : resolve(r)),
    );
    instance.on("response", (_client, status: number, _bytes: number, ms: number) => {
      latenciesMs.push(ms);
      statuses[status] = (statuses[status] ?? 0) + 1;
    });
    if (o.amount) {
      const timer = setTimeout(() => instance.stop(), (o.seconds + 1) * 1000);
      instance.on("done", () => clearTimeout(timer));
    }
  });
  const seconds = elapsedS(t0);
  if (result.timeouts) statuses.timeout = result.timeouts;
  if (result.errors - result.timeouts > 0) statuses.error = result.errors - result.timeouts;
  const requests = latenciesMs.length;
  const out = {
    name,
    requests,
    seconds,
    rps: requests / seconds,
    latency: summarize(latenciesMs),
    statuses,
    latenciesMs,
  };
  log(
    `${name}: ${out.rps.toFixed(0)} req/s, p50 ${out.latency.p50} ms, p99 ${out.latency.p99} ms, ${JSON.stringify(statuses)}`,
  );
  return out;
}

/**
 * An open-loop run at `rate` per second: request i is sent at start + i/rate, whatever became of
 * the ones before, and timed from that moment (so a request the client could not send on time
 * counts its wait). autocannon's overallRate instead sends each connection's share of a second
 * back to back as the second starts, which measures a burst. At most MAX_IN_FLIGHT wait at once;
 * past that a request is dropped and counted: the service has fallen behind.
 */
async function paced(
  rate: number,
  seconds: number,
  make: (i: number) => { path: string; init?: RequestInit },
  stop: () => boolean = () => false,
): Promise<RatePoint & { latenciesMs: number[] }> {
  const total = Math.max(1, Math.round(rate * seconds));
  const latenciesMs: number[] = [];
  const statuses: Record<string, number> = {};
  const pending = new Set<Promise<void>>();
  let sent = 0;
  let dropped = 0;
  const t0 = performance.now();
  while (sent < total && !stop()) {
    const due = dueCount(performance.now() - t0, rate, total);
    while (sent < due) {
      const dueAt = t0 + (sent * 1000) / rate;
      if (pending.size >= MAX_IN_FLIGHT) {
        dropped++;
        sent++;
        continue;
      }
      const { path, init } = make(sent);
      const p: Promise<void> = fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(10_000) })
        .then(
          async (res) => {
            await res.arrayBuffer();
            latenciesMs.push(performance.now() - dueAt);
            statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          },
          (e: Error) => {
            const k = e.name === "TimeoutError" ? "timeout" : "error";
            statuses[k] = (statuses[k] ?? 0) + 1;
          },
        )
        .finally(() => pending.delete(p));
      pending.add(p);
      sent++;
    }
    await Bun.sleep(Math.max(0, Math.min(t0 + (sent * 1000) / rate - performance.now(), 10)));
  }
  const window = elapsedS(t0);
  await Promise.all(pending);
  return {
    share: 0,
    offered: rate,
    achieved: latenciesMs.length / Math.max(window, 1e-9),
    dropped,
    latency: summarize(latenciesMs),
    statuses,
    latenciesMs,
  };
}

/** Runs `fn` over `items` with at most `n` at a time. */
async function limited<T, R>(
  items: readonly T[],
  n: number,
  fn: (t: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

async function readFeed(a: Actor): Promise<{ status: number; ids: string[] }> {
  const res = await fetch(`${base}/feed?limit=20`, { headers: auth(a), signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) return { status: res.status, ids: [] };
  const body = (await res.json()) as { items: { id: string }[] };
  return { status: 200, ids: body.items.map((i) => i.id) };
}

async function createPost(a: Actor, text: string): Promise<string> {
  const res = await fetch(`${base}/posts`, {
    method: "POST",
    headers: { ...auth(a), "content-type": "application/json", "idempotency-key": crypto.randomUUID() },
    body: JSON.stringify({ text }),
  });
  if (res.status !== 201) throw new BenchError(`POST /posts answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

// ---------------------------------------------------------------- measuring the stack

async function metricsText(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`);
  if (!res.ok) throw new BenchError(`${url}/metrics answered ${res.status}`);
  return res.text();
}

async function redisInfo(section: string): Promise<Map<string, string>> {
  return parseRedisInfo(String(await redis.info(section)));
}

interface CpuSnapshot {
  api: number;
  projector: number;
  redis: number;
  postgres: Map<number, number>;
  generator: number;
  machine: number;
}

/** Ticks of every PostgreSQL process now (backends come and go; see ticksBetween). */
async function postgresTicks(): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = parsePidStat(await readFile(`/proc/${name}/stat`, "utf8"));
      if (s.comm === "postgres") out.set(Number(name), s.ticks);
    } catch {
      // The process exited between readdir and read.
    }
  }
  return out;
}

async function cpuSnapshot(): Promise<CpuSnapshot> {
  const [apiText, projText, info, pg, stat] = await Promise.all([
    metricsText(apiMetricsUrl),
    metricsText(projectorUrl),
    redisInfo("cpu"),
    postgresTicks(),
    readFile("/proc/stat", "utf8"),
  ]);
  const usage = process.cpuUsage();
  return {
    api: sumOf(parsePromText(apiText), "process_cpu_seconds_total"),
    projector: sumOf(parsePromText(projText), "process_cpu_seconds_total"),
    redis: Number(info.get("used_cpu_sys") ?? 0) + Number(info.get("used_cpu_user") ?? 0),
    postgres: pg,
    generator: (usage.user + usage.system) / 1e6,
    machine: parseProcStat(stat).busy / CLK_TCK,
  };
}

function cpuUsed(a: CpuSnapshot, b: CpuSnapshot): CpuUsed {
  return {
    api: b.api - a.api,
    projector: b.projector - a.projector,
    redis: b.redis - a.redis,
    postgres: ticksBetween(a.postgres, b.postgres) / CLK_TCK,
    generator: b.generator - a.generator,
    machine: b.machine - a.machine,
  };
}

const cpu: CpuSplit[] = [];

/** Runs a closed loop and records where the machine's CPU went during it. */
/**
 * Runs a closed loop and records where the machine's CPU went during it. It starts once the
 * projector has caught up, so no earlier run's events are charged to this one; with `drain`
 * (writes) the window stays open until the projector has handled this run's events, so each
 * write is charged its asynchronous work too.
 */
async function measured(
  scenario: string,
  run: () => Promise<Throughput & { latenciesMs: number[] }>,
  opts: { drain?: boolean } = {},
): Promise<Throughput & { latenciesMs: number[] }> {
  if (!(await waitDrained(120))) log(`warning: the backlog did not drain before ${scenario}`);
  const before = await cpuSnapshot();
  const r = await run();
  const mid = await cpuSnapshot();
  if (opts.drain && !(await waitDrained(120))) log(`warning: the backlog did not drain after ${scenario}`);
  const after = opts.drain ? await cpuSnapshot() : mid;
  const busy = mid.machine - before.machine;
  cpu.push(cpuSplit(scenario, cpuUsed(before, after), r.requests, r.seconds, CORES, busy));
  return r;
}

async function projectorSamples() {
  return parsePromText(await metricsText(projectorUrl));
}

/**
 * Waits until every consumer group has caught up and the fan-out lane has no job. The backlog
 * gauges are cached for a second by the projector, so two readings 1.1 s apart must both be 0.
 */
async function waitDrained(maxSeconds: number): Promise<boolean> {
  const t0 = performance.now();
  let zeros = 0;
  while (elapsedS(t0) < maxSeconds) {
    const backlog =
      snapshotOf("", await metricsText(projectorUrl)).backlogTotal + (await fanoutJobCount(sql));
    zeros = backlog === 0 ? zeros + 1 : 0;
    if (zeros >= 2) return true;
    await Bun.sleep(zeros ? 1100 : 300);
  }
  return false;
}

// ---------------------------------------------------------------- baselines

async function helloWorld(): Promise<Throughput & { latenciesMs: number[] }> {
  const app = new Elysia().get("/", () => "hello");
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch });
  const url = `http://127.0.0.1:${server.port}/`;
  try {
    await autocannon({ url, connections: CONNECTIONS, duration: 1 }); // JIT warm-up, not recorded
    return await measured("hello-world", () =>
      closedLoop("hello-world (baseline)", { url, seconds: SECONDS }),
    );
  } finally {
    server.stop(true);
  }
}

async function copyBaseline(): Promise<{ rowsPerS: number; rows: number }> {
  // The seeder's own baseline: 20 000 distinct lines of two bigints, sent 100 times.
  const lines = Array.from({ length: 20_000 }, (_, i) => `${userId(i)}\t${userId((i * 7919) % 1_000_000)}\n`);
  const repeat = 100;
  const rowsPerS = await rawCopyRate(sql, lines, repeat);
  log(`raw COPY: ${rowsPerS.toFixed(0)} rows/s`);
  return { rowsPerS, rows: lines.length * repeat };
}

async function redisBenchmarks(): Promise<RedisBench[]> {
  const db = createRedis(
    { REDIS_URL: Object.assign(new URL(config.REDIS_URL), { pathname: `/${BENCH_DB}` }).toString() },
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

// ---------------------------------------------------------------- the service

type Run = Throughput & { latenciesMs: number[] };
type Build = (n: number, req: autocannon.Request) => autocannon.Request;

/** What every phase needs: the seed's parameters and ids, and the users already given a role. */
interface Seed {
  params: SeedParams;
  lo: bigint;
  hi: bigint;
  /** Seeded user indexes already acting in some role, so roles stay disjoint. */
  taken: Set<number>;
}

const random = (n: number) => Math.floor(Math.random() * n);

async function loadSeed(): Promise<Seed> {
  const seedRuns = await phases(sql);
  const params = [...seedRuns.values()][0]?.params as SeedParams | undefined;
  const complete = ["users", "follows", "posts", "likes", "stats", "feeds"].every(
    (ph) => seedRuns.get(ph)?.state === "done",
  );
  if (!params || !complete)
    throw new BenchError("the development database holds no complete seed: run ./dev seed first");
  const [lo, hi] = userIdRange(params.users);
  return { params, lo, hi, taken: new Set() };
}

/** A few hundred active readers with warm heads, read in turn: closed-loop maximum, then the sweep. */
async function cachedReads(seed: Seed) {
  const pool = await actors(
    activeUsers(seed.params, 0, CACHED_READERS, seed.taken).map((u) => userId(u).toString()),
  );
  const warm = await limited(pool, CONNECTIONS, readFeed);
  if (warm.some((w) => w.status !== 200)) throw new BenchError("warming the cached readers' heads failed");
  let next = 0;
  const build: Build = (_n, req) => ({
    ...req,
    method: "GET",
    path: "/feed?limit=20",
    headers: auth(pool[next++ % pool.length]!),
    body: undefined,
  });
  const pacedRequest = (i: number) => ({
    path: "/feed?limit=20",
    init: { headers: auth(pool[i % pool.length]!) },
  });
  await closedLoop("cached warm-up (not recorded)", { seconds: 2, build });
  const max = await measured("cached GET /feed", () =>
    closedLoop("cached GET /feed, closed loop", { seconds: SECONDS, build }),
  );
  const sweep: RatePoint[] = [];
  for (const { share, rate } of sweepRates(max.rps, SWEEP)) {
    const before = await cpuSnapshot();
    const { latenciesMs: _, ...p } = await paced(rate, SECONDS, pacedRequest);
    sweep.push({ ...p, share, outsideShare: outsideShare(cpuUsed(before, await cpuSnapshot())) });
    log(
      `cached sweep ${Math.round(share * 100)}%: ${rate} req/s offered, ${p.achieved.toFixed(0)} achieved, p50 ${p.latency.p50} ms, p99 ${p.latency.p99} ms, dropped ${p.dropped}`,
    );
  }
  const at70 = sweep.find((s) => s.share === 0.7)!;
  const ac = await closedLoop("cached GET /feed, autocannon overallRate at 70%", {
    seconds: SECONDS,
    overallRate: at70.offered,
    build,
  });
  const autocannon70: RatePoint = {
    share: 0.7,
    offered: at70.offered,
    achieved: ac.rps,
    dropped: 0,
    latency: ac.latency,
    statuses: ac.statuses,
  };
  return { pool, build, pacedRequest, max, sweep, at70, autocannon70 };
}

/**
 * Each request a different active reader whose head and pull-author list were just deleted (as
 * after a week away). Redis's used_memory around the run gives the memory of the heads it
 * rebuilt; MEMORY USAGE of a sample gives the head keys alone.
 */
async function coldReads(seed: Seed, activeTotal: number) {
  const users = activeUsers(seed.params, random(seed.params.users), COLD_READERS, seed.taken);
  const pool = await actors(users.map((u) => userId(u).toString()));
  for (let i = 0; i < pool.length; i += 500) {
    const chunk = pool.slice(i, i + 500);
    // One DEL per key: on a cluster the heads are in different slots.
    await runCommands(
      redis,
      chunk.flatMap((a) => [
        ["del", keys.feedHead(a.id)],
        ["del", keys.pullFollows(a.id)],
      ]),
    );
  }
  const usedBefore = Number((await redisInfo("memory")).get("used_memory"));
  let next = 0;
  const run = await measured("cold GET /feed", () =>
    closedLoop("cold GET /feed", {
      seconds: Math.max(SECONDS * 2, 10),
      amount: pool.length,
      build: (_n, req) => ({
        ...req,
        method: "GET",
        path: "/feed?limit=20",
        headers: auth(pool[next++ % pool.length]!),
        body: undefined,
      }),
    }),
  );
  const usedAfter = Number((await redisInfo("memory")).get("used_memory"));
  const sample = pool.slice(0, Math.min(next, pool.length, 200));
  const usage = await Promise.all(
    sample.map(
      (a) => redis.call("MEMORY", "USAGE", keys.feedHead(a.id), "SAMPLES", "0") as Promise<number | null>,
    ),
  );
  const present = usage.filter((u): u is number => typeof u === "number");
  const heads = run.statuses["200"] ?? 0;
  const bytesPerHead = heads > 0 ? (usedAfter - usedBefore) / heads : 0;
  const memory: BenchResults["redisMemory"] = {
    heads,
    usedBefore,
    usedAfter,
    bytesPerHead,
    headKeyBytes: present.reduce((s, u) => s + u, 0) / Math.max(present.length, 1),
    extrapolatedBytes: usedBefore + bytesPerHead * activeTotal,
  };
  log(
    `Redis: ${bytesPerHead.toFixed(0)} bytes per rebuilt reader (head key alone ${memory.headKeyBytes.toFixed(0)})`,
  );
  return { run, memory };
}

/**
 * POST /posts by seeded authors with at most 10 followers (no fan-out backlog left behind),
 * POST /likes of seeded posts by seeded users (distinct pairs, so real inserts), then the 50:1
 * mix of cached reads and those writes.
 */
async function writes(seed: Seed, cachedBuild: Build) {
  const { params, lo, hi } = seed;
  const writers = await actors(
    (await usersByFollowers(sql, { min: 0, max: 10, lo, hi, limit: 200 })).map((u) => u.id),
  );
  if (writers.length === 0) throw new BenchError("no seeded user with ≤ 10 followers to post as");
  const likers = await actors(Array.from({ length: 1000 }, () => userId(random(params.users)).toString()));
  const posts = postSchedule(params);
  const liked = new Set<string>();
  const newLike = (): { liker: Actor; postId: string } => {
    for (;;) {
      const li = random(likers.length);
      const j = random(posts.author.length);
      const k = `${li}:${j}`;
      if (liked.has(k)) continue;
      liked.add(k);
      return { liker: likers[li]!, postId: postId(posts, j).toString() };
    }
  };
  let written = 0;
  const postReq = (req: autocannon.Request): autocannon.Request => ({
    ...req,
    method: "POST",
    path: "/posts",
    headers: {
      ...auth(writers[written % writers.length]!),
      "content-type": "application/json",
      "idempotency-key": crypto.randomUUID(),
    },
    body: JSON.stringify({ text: `bench post ${written++}: an ordinary post of about eighty characters` }),
  });
  const likeReq = (req: autocannon.Request): autocannon.Request => {
    const { liker, postId } = newLike();
    return {
      ...req,
      method: "POST",
      path: "/likes",
      headers: { ...auth(liker), "content-type": "application/json" },
      body: JSON.stringify({ post_id: postId }),
    };
  };
  const postsRun = await measured(
    "POST /posts",
    () => closedLoop("POST /posts", { seconds: SECONDS, build: (_n, req) => postReq(req) }),
    { drain: true },
  );
  const likesRun = await measured(
    "POST /likes",
    () => closedLoop("POST /likes", { seconds: SECONDS, build: (_n, req) => likeReq(req) }),
    { drain: true },
  );
  // Read-only again just before the mix, for a ratio between runs minutes apart on a shared box.
  const readOnly = await closedLoop("cached GET /feed again, just before the mix", {
    seconds: SECONDS,
    build: cachedBuild,
  });
  const mixedCount = { reads: 0, writes: 0, readOnlyRps: readOnly.rps };
  const mixed = await measured(
    "mixed 50:1",
    () =>
      closedLoop("mixed 50:1", {
        seconds: SECONDS,
        build: (n, req) => {
          const kind = requestKind("mixed", n);
          if (kind === "feed") {
            mixedCount.reads++;
            return cachedBuild(n, req);
          }
          mixedCount.writes++;
          return kind === "post" ? postReq(req) : likeReq(req);
        },
      }),
    { drain: true },
  );
  return { postsRun, likesRun, mixed, mixedCount };
}

/**
 * Posts by push authors (2 000–9 000 followers) published at once; feed rows written per second
 * from the projector's fanout_rows_total, from the first post to the last row.
 */
async function fanOut(seed: Seed): Promise<BenchResults["fanout"]> {
  if (!(await waitDrained(120))) log("warning: the backlog did not drain within 120 s");
  const authors = await usersByFollowers(sql, {
    min: 2000,
    max: 9000,
    lo: seed.lo,
    hi: seed.hi,
    limit: FANOUT_POSTS,
  });
  const authorActors = await actors(authors.map((a) => a.id));
  const handled = { group: "projector", type: "PostCreated", outcome: "ok" };
  const f0 = await projectorSamples();
  const rows0 = sumOf(f0, "fanout_rows_total");
  const handled0 = sumOf(f0, "projector_events_total", handled);
  const cpu0 = await cpuSnapshot();
  const t0 = performance.now();
  await limited(authorActors, 8, (a, i) => createPost(a, `bench fan-out post ${i}`));
  // Done when every PostCreated was handled, the fan-out lane holds no job (authors above
  // FANOUT_INLINE_MAX are fanned out there, after the handler returned) and the row counter has
  // stopped: the lane counts a batch just after its job row goes. The end is the last increase.
  let rows = rows0;
  let lastIncrease = performance.now();
  let drained = false;
  while (elapsedS(t0) < 180) {
    const samples = await projectorSamples();
    const now = sumOf(samples, "fanout_rows_total");
    if (now !== rows) {
      rows = now;
      lastIncrease = performance.now();
    }
    const allHandled = sumOf(samples, "projector_events_total", handled) - handled0 >= authorActors.length;
    if (allHandled && (await fanoutJobCount(sql)) === 0 && performance.now() - lastIncrease > 500) {
      drained = true;
      break;
    }
    await Bun.sleep(50);
  }
  const wall = (lastIncrease - t0) / 1000;
  const written = rows - rows0;
  cpu.push(cpuSplit("fan-out (per row)", cpuUsed(cpu0, await cpuSnapshot()), written, elapsedS(t0), CORES));
  const followers = authors.reduce((s, a) => s + a.followers, 0);
  log(
    `fan-out: ${written} rows for ${followers} followers in ${wall.toFixed(1)} s (${(written / wall).toFixed(0)} rows/s)`,
  );
  return {
    posts: authorActors.length,
    followers,
    rows: written,
    wallSeconds: wall,
    rowsPerS: wall > 0 ? written / wall : 0,
    followersPerS: wall > 0 ? followers / wall : 0,
    drained,
  };
}

/**
 * A post by a seeded author with ≥ 100 000 followers (a pull author), while a paced cached-read
 * load runs: a sample of the author's followers poll GET /feed until it shows the post.
 */
async function fanOutLag(
  seed: Seed,
  backgroundRequest: (i: number) => { path: string; init?: RequestInit },
  cachedMax: number,
): Promise<BenchResults["lag"]> {
  if (!(await waitDrained(120))) log("warning: the backlog did not drain within 120 s");
  const { params } = seed;
  const [big] = await usersByFollowers(sql, { min: 100_000, max: 1e12, lo: seed.lo, hi: seed.hi, limit: 1 });
  if (!big) throw new BenchError("no seeded user with ≥ 100 000 followers: a 1M-user seed is needed");
  // Active followers first: they are the ones who read.
  const candidates = await followersSample(sql, big.id, 5000);
  const active = candidates.filter((id) => isActive(params, indexOf(id)));
  const chosen = [...active, ...candidates.filter((id) => !isActive(params, indexOf(id)))].slice(
    0,
    LAG_SAMPLE,
  );
  const followers = await actors(chosen);
  const [author] = await actors([big.id]);
  await limited(followers, CONNECTIONS, readFeed); // heads, pull lists and the author's cache
  let done = false;
  const background = paced(
    Math.max(1, Math.round(cachedMax * LAG_LOAD_SHARE)),
    LAG_DEADLINE_S + 10,
    backgroundRequest,
    () => done,
  );
  await Bun.sleep(1000);
  const lagMatch = { group: "projector", type: "PostCreated" };
  const l0 = await projectorSamples();
  const t0 = performance.now();
  const post = await createPost(author!, "bench: a post by a very popular author");
  // Each follower's lag lies between the sending of its last poll without the post (the post
  // was not visible when that one was sent) and the arrival of its first poll with it.
  const seen = new Map<number, number>();
  const notYet = new Map<number, number>();
  let polls = 0;
  const poll = async (i: number) => {
    const sentAt = performance.now() - t0;
    const page = await readFeed(followers[i]!);
    polls++;
    // A refused read (a rate limit's 429) says nothing about whether the post is there.
    if (seen.has(i) || page.status !== 200) return;
    if (page.ids.includes(post)) seen.set(i, performance.now() - t0);
    else notYet.set(i, Math.max(notYet.get(i) ?? 0, sentAt));
  };
  const polling = () => seen.size < followers.length && elapsedS(t0) < LAG_DEADLINE_S;
  // Follower 0 is polled back to back by a poller of its own: the sample's lag is bounded by how
  // long one round over every follower takes, this one's only by a single read.
  let cursor = 0;
  await Promise.all([
    (async () => {
      while (!seen.has(0) && polling()) await poll(0);
    })(),
    ...Array.from({ length: LAG_POLLERS }, async () => {
      while (polling()) {
        let i = 0;
        for (let k = 0; (i === 0 || seen.has(i)) && k <= followers.length; k++)
          i = cursor++ % followers.length;
        if (i === 0 || seen.has(i)) break;
        await poll(i);
      }
    }),
  ]);
  const pollSeconds = elapsedS(t0);
  done = true;
  const { latenciesMs: _, ...bg } = await background;
  // The projector's own view: from the event's occurred_at to its handler's commit.
  let projectorLagMs: number | null = null;
  for (let k = 0; k < 20 && projectorLagMs === null; k++) {
    const l1 = await projectorSamples();
    const delta = (name: string) => sumOf(l1, name, lagMatch) - sumOf(l0, name, lagMatch);
    const n = delta("projector_event_lag_seconds_count");
    if (n >= 1) projectorLagMs = (delta("projector_event_lag_seconds_sum") / n) * 1000;
    else await Bun.sleep(250);
  }
  const lags = [...seen.values()];
  log(`lag: ${seen.size} of ${followers.length} followers saw the post; p99 ${summarize(lags).p99} ms`);
  return {
    authorFollowers: big.followers,
    sampled: followers.length,
    activeSampled: Math.min(active.length, followers.length),
    lagsMs: lags,
    lagsLowerMs: [...seen.keys()].map((i) => notYet.get(i) ?? 0),
    closeUp: seen.has(0) ? { lowerMs: notYet.get(0) ?? 0, upperMs: seen.get(0)! } : null,
    pollers: LAG_POLLERS,
    missing: followers.length - seen.size,
    deadlineS: LAG_DEADLINE_S,
    pollsPerFollowerPerS: polls / followers.length / pollSeconds,
    projectorLagMs,
    background: { ...bg, share: LAG_LOAD_SHARE },
  };
}

/**
 * How long GET /metrics takes on the idle api and projector (median of three): a process answers
 * nothing else while it builds the page, so a slow one stalls every read at each scrape.
 */
async function scrapeTimes(): Promise<BenchResults["scrapeMs"]> {
  const time = async (url: string) => {
    const ms: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await metricsText(url);
      ms.push(performance.now() - t0);
    }
    return ms.sort((a, b) => a - b)[1]!;
  };
  return { api: await time(apiMetricsUrl), projector: await time(projectorUrl) };
}

/** When the api and the projector started: code edited after that is not what ran. */
async function processStarts(): Promise<BenchResults["processes"]> {
  const started = async (url: string) => {
    const v = sumOf(parsePromText(await metricsText(url)), "process_start_time_seconds");
    return v > 0 ? new Date(v * 1000).toISOString() : null;
  };
  return { api: await started(apiMetricsUrl), projector: await started(projectorUrl) };
}

function codeVersion(): BenchResults["code"] {
  const git = (...args: string[]) =>
    Bun.spawnSync(["git", ...args], { cwd: import.meta.dir })
      .stdout.toString()
      .trim();
  return {
    commit: git("rev-parse", "HEAD"),
    dirty: git("diff", "--name-only", "HEAD").split("\n").filter(Boolean),
  };
}

async function writeReport(results: BenchResults): Promise<void> {
  const goals = checkGoals(results);
  // Hand-written profile findings, kept beside the bench and appended to every report.
  const notes = await Bun.file(`${import.meta.dir}/bench-causes.md`)
    .text()
    .catch(() => "");
  const names = reportNames(new Date(results.startedAt));
  await mkdir(REPORT_DIR, { recursive: true });
  await mkdir(RESULTS_DIR, { recursive: true });
  await Bun.write(`${REPORT_DIR}/${names.md}`, formatBenchReport(results, goals, notes));
  const png = (svg: string, file: string) => sharp(Buffer.from(svg)).png().toFile(`${REPORT_DIR}/${file}`);
  await png(latencyChartSvg(results.cached.sweep, GOALS.cachedP99Ms, names.date), names.latencyPng);
  const { lag } = results;
  await png(lagChartSvg(lag.lagsMs, lag.lagsLowerMs, lag.sampled, GOALS.lagP99Ms, names.date), names.lagPng);
  const raw = `${RESULTS_DIR}/bench-${names.date}-${Date.parse(results.startedAt)}.json`;
  await Bun.write(raw, `${JSON.stringify({ results, goals }, null, 2)}\n`);

  console.log(`\n${"goal".padEnd(80)} verdict  measured`);
  for (const g of goals) console.log(`${g.goal.padEnd(80)} ${g.met ? "met   " : "MISSED"}   ${g.measured}`);
  const rel = (p: string) => p.replace(`${process.cwd()}/`, "");
  log(`report: ${rel(`${REPORT_DIR}/${names.md}`)} (charts beside it); raw figures: ${rel(raw)}`);
}

/**
 * Busy share of all cores over `seconds`. Another user's tests make every figure pessimistic, so
 * the bench waits (up to BENCH_WAIT_QUIET seconds) for the machine to be mostly idle first, and
 * the report says how busy it was.
 */
async function machineBusy(seconds: number): Promise<number> {
  const a = parseProcStat(await readFile("/proc/stat", "utf8"));
  await Bun.sleep(seconds * 1000);
  const b = parseProcStat(await readFile("/proc/stat", "utf8"));
  return (b.busy - a.busy) / Math.max(b.total - a.total, 1);
}

async function waitQuiet(): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const busy = await machineBusy(3);
    if (busy <= QUIET_BUSY || elapsedS(t0) >= WAIT_QUIET_S) {
      if (busy > QUIET_BUSY)
        log(`warning: the machine is still ${(busy * 100).toFixed(0)}% busy; measuring anyway`);
      return busy;
    }
    log(`the machine is ${(busy * 100).toFixed(0)}% busy with other work; waiting for it to quieten`);
  }
}

async function main(): Promise<number> {
  const busyBefore = await waitQuiet();
  const startedAt = new Date();
  const seed = await loadSeed();
  const activeTotal = Math.round(seed.params.users * seed.params.activeShare);
  log(
    `seed of ${seed.params.users} users (seed ${seed.params.seed}); ${SECONDS} s per run, ${CONNECTIONS} connections`,
  );
  const scrapeMs = await scrapeTimes();
  const hello = await helloWorld();
  const copy = await copyBaseline();
  const redisBench = await redisBenchmarks();
  const cached = await cachedReads(seed);
  const cold = await coldReads(seed, activeTotal);
  const w = await writes(seed, cached.build);
  const fanout = await fanOut(seed);
  const lag = await fanOutLag(seed, cached.pacedRequest, cached.max.rps);

  await writeReport({
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    code: codeVersion(),
    processes: await processStarts(),
    cores: CORES,
    busyBefore,
    scrapeMs,
    seconds: SECONDS,
    connections: CONNECTIONS,
    seed: { users: seed.params.users, activeUsers: activeTotal, seed: seed.params.seed },
    config: {
      pullThreshold: config.FANOUT_PULL_THRESHOLD,
      feedCacheItems: config.FEED_CACHE_ITEMS,
      fanoutBatchSize: config.FANOUT_BATCH_SIZE,
    },
    baselines: { hello: strip(hello), copyRowsPerS: copy.rowsPerS, copyRows: copy.rows, redis: redisBench },
    cached: {
      readers: cached.pool.length,
      max: strip(cached.max),
      sweep: cached.sweep,
      at70: cached.at70,
      autocannon70: cached.autocannon70,
    },
    cold: strip(cold.run),
    posts: strip(w.postsRun),
    likes: { ...strip(w.likesRun), newLikes: w.likesRun.statuses["201"] ?? 0 },
    mixed: { ...strip(w.mixed), ...w.mixedCount },
    fanout,
    lag,
    redisMemory: cold.memory,
    cpu,
  });

  // A run with many failed requests measured errors, not the service: say so by the exit code.
  const runs: Run[] = [hello, cached.max, cold.run, w.postsRun, w.likesRun, w.mixed];
  const bad = runs.filter((r) => failedCount(r.statuses) > 0.01 * Math.max(r.requests, 1));
  for (const r of bad)
    console.error(`bench: ${r.name}: over 1% of requests failed (${JSON.stringify(r.statuses)})`);
  return bad.length ? 1 : 0;
}

function strip<T extends { latenciesMs: number[] }>(r: T): Omit<T, "latenciesMs"> {
  const { latenciesMs: _, ...rest } = r;
  return rest;
}

main()
  .then(
    (code) => code,
    (e) => {
      console.error(`bench: ${e instanceof BenchError ? e.message : (e as Error).stack}`);
      return 1;
    },
  )
  .then(async (code) => {
    await sql.end({ timeout: 5 });
    redis.disconnect();
    process.exit(code);
  });
