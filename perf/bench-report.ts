// Pure parts of the benchmark (perf/bench.ts): parsing what other tools print (redis-benchmark,
// /proc, INFO), CPU accounting and the goal checks (the Markdown report is bench/report.ts, the
// charts bench-charts.ts). Kept free of I/O so they are unit-tested; bench.ts measures.
import { fmtBytes, fmtMs, fmtNum, pct } from "./lib/format.ts";
import { type Latency, round, summarize } from "./lib/stats.ts";

// ---------------------------------------------------------------- latency and runs

/** A closed-loop run: every connection sends its next request as soon as the last one answered. */
export interface Throughput {
  name: string;
  requests: number;
  seconds: number;
  rps: number;
  latency: Latency;
  /** Completed requests by status, plus `error`/`timeout` for those that got no response. */
  statuses: Record<string, number>;
}

/** One step of an offered-rate (open-loop) run. */
export interface RatePoint {
  /** Share of the closed-loop maximum offered. */
  share: number;
  offered: number;
  achieved: number;
  /** Requests not sent because too many were already waiting (the service fell behind). */
  dropped: number;
  latency: Latency;
  statuses: Record<string, number>;
  /** Share of the machine's busy CPU during the step that the stack does not explain (other users). */
  outsideShare?: number;
}

/** Offered rates of the latency sweep: shares of the closed-loop maximum, rounded to whole req/s. */
export function sweepRates(max: number, shares: readonly number[]): { share: number; rate: number }[] {
  return shares.map((share) => ({ share, rate: Math.max(1, Math.round(max * share)) }));
}

/**
 * How many requests of an open-loop run are due `elapsedMs` after its start at `rate` per second,
 * capped at the run's total: the pacer sends each request at its own moment (evenly spaced)
 * instead of a burst per second, as autocannon's overallRate does.
 */
export function dueCount(elapsedMs: number, rate: number, total: number): number {
  if (elapsedMs < 0) return 0;
  return Math.min(total, Math.floor((elapsedMs * rate) / 1000) + 1);
}

// ---------------------------------------------------------------- other tools' output

export interface RedisBench {
  test: string;
  rps: number;
  p50: number;
  p99: number;
}

/** `redis-benchmark --csv` output: a header line, then one quoted line per test. */
export function parseRedisBenchmarkCsv(text: string): RedisBench[] {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const cells = (line: string) =>
    [...line.matchAll(/"((?:[^"]|"")*)"/g)].map((m) => m[1]!.replace(/""/g, '"'));
  const header = lines.findIndex((l) => cells(l)[0] === "test");
  if (header < 0) throw new Error(`redis-benchmark printed no CSV header: ${text.slice(0, 200)}`);
  const names = cells(lines[header]!);
  const col = (name: string) => {
    const i = names.indexOf(name);
    if (i < 0) throw new Error(`redis-benchmark CSV has no "${name}" column`);
    return i;
  };
  const [ti, ri, p50i, p99i] = [col("test"), col("rps"), col("p50_latency_ms"), col("p99_latency_ms")];
  return lines.slice(header + 1).map((l) => {
    const c = cells(l);
    return { test: c[ti]!, rps: Number(c[ri]), p50: Number(c[p50i]), p99: Number(c[p99i]) };
  });
}

/** `INFO` output as a map of its `key:value` lines. */
export function parseRedisInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i > 0 && !line.startsWith("#")) out.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return out;
}

/** The machine's busy and total clock ticks from the first line of /proc/stat. */
export function parseProcStat(text: string): { busy: number; total: number } {
  const line = text.split("\n").find((l) => /^cpu\s/.test(l));
  if (!line) throw new Error("/proc/stat has no cpu line");
  const [user, nice, system, idle, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number) as number[];
  const busy = user! + nice! + system! + irq + softirq + steal;
  return { busy, total: busy + idle! + iowait };
}

/**
 * Command name and utime + stime (clock ticks) of a /proc/<pid>/stat line. The name is in
 * parentheses and may itself contain spaces and parentheses, so fields are counted from the
 * last ')'.
 */
export function parsePidStat(text: string): { comm: string; ticks: number } {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) throw new Error(`not a /proc/<pid>/stat line: ${text.slice(0, 80)}`);
  const rest = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
  return { comm: text.slice(open + 1, close), ticks: Number(rest[11]) + Number(rest[12]) };
}

/**
 * CPU ticks spent between two snapshots of per-process tick counts. A process that exited in
 * between is lost (its ticks cannot be known); one that started counts from zero.
 */
export function ticksBetween(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, t] of after) sum += Math.max(0, t - (before.get(pid) ?? 0));
  return sum;
}

// ---------------------------------------------------------------- CPU split

/** CPU seconds each part of the stack used during a run; `machine` is every core's busy time. */
export interface CpuUsed {
  api: number;
  projector: number;
  redis: number;
  postgres: number;
  generator: number;
  machine: number;
}

export const CPU_PARTS = ["api", "projector", "redis", "postgres", "generator"] as const;

export interface CpuSplit {
  scenario: string;
  requests: number;
  seconds: number;
  /** ms of CPU per request, per part; `other` is the machine's busy time nobody above explains. */
  perRequestMs: Record<(typeof CPU_PARTS)[number] | "other" | "total", number>;
  /** Busy share of all cores during the run (1 = every core busy all the time). */
  utilization: number;
}

/** Share of the machine's busy CPU that none of the stack's parts (nor the bench) explains. */
export function outsideShare(used: CpuUsed): number {
  const known = CPU_PARTS.reduce((s, p) => s + Math.max(0, used[p]), 0);
  return used.machine > 0 ? round(Math.max(0, used.machine - known) / used.machine, 3) : 0;
}

/**
 * `used` covers the whole window (for writes, until the projector caught up); `busyDuringRun`,
 * when given, is the machine's busy CPU seconds over the `seconds` of the run itself, so waiting
 * for the projector afterwards does not dilute how busy the cores were.
 */
export function cpuSplit(
  scenario: string,
  used: CpuUsed,
  requests: number,
  seconds: number,
  cores: number,
  busyDuringRun = used.machine,
): CpuSplit {
  const per = (s: number) => (requests > 0 ? round((Math.max(0, s) * 1000) / requests, 3) : 0);
  const parts = Object.fromEntries(CPU_PARTS.map((p) => [p, per(used[p])])) as Record<
    (typeof CPU_PARTS)[number],
    number
  >;
  const known = CPU_PARTS.reduce((s, p) => s + Math.max(0, used[p]), 0);
  return {
    scenario,
    requests,
    seconds: round(seconds),
    perRequestMs: { ...parts, other: per(used.machine - known), total: per(used.machine) },
    utilization: seconds > 0 && cores > 0 ? round(Math.max(0, busyDuringRun) / (seconds * cores), 3) : 0,
  };
}

// ---------------------------------------------------------------- results and goals

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  /** The checkout the bench ran from; the running api and projector may predate edits to it. */
  code: { commit: string; dirty: string[] };
  /** When the measured api and projector processes started (ISO), from process_start_time_seconds. */
  processes: { api: string | null; projector: string | null };
  cores: number;
  /** Busy share of all cores over a few seconds before the first run, with nothing of ours running. */
  busyBefore: number;
  /** How long the idle api and projector take to answer GET /metrics (median of three), in ms. */
  scrapeMs: { api: number; projector: number };
  seconds: number;
  connections: number;
  seed: { users: number; activeUsers: number; seed: number };
  config: { pullThreshold: number; feedCacheItems: number; fanoutBatchSize: number };
  baselines: { hello: Throughput; copyRowsPerS: number; copyRows: number; redis: RedisBench[] };
  cached: {
    readers: number;
    max: Throughput;
    sweep: RatePoint[];
    /** The sweep point at 70% of the maximum (the goal's). */
    at70: RatePoint;
    /** The same rate through autocannon's overallRate, for comparison (it bursts each second). */
    autocannon70: RatePoint | null;
  };
  cold: Throughput;
  posts: Throughput;
  likes: Throughput & { newLikes: number };
  /** `readOnlyRps`: cached reads alone, closed loop, measured just before the mix (less drift). */
  mixed: Throughput & { reads: number; writes: number; readOnlyRps: number };
  fanout: {
    posts: number;
    /** The authors' followers in all: what fan-out had to go through. */
    followers: number;
    /** fanout_rows_total's growth: rows written (followers away too long are skipped). */
    rows: number;
    wallSeconds: number;
    rowsPerS: number;
    followersPerS: number;
    drained: boolean;
  };
  lag: {
    authorFollowers: number;
    sampled: number;
    activeSampled: number;
    /** Per follower that saw it: from the POST to the arrival of the first page holding the post. */
    lagsMs: number[];
    /** The same followers: to the sending of their last poll without it (0 if none), a lower bound. */
    lagsLowerMs: number[];
    pollers: number;
    /** The first follower, polled back to back by a poller of its own: its lag within one read. */
    closeUp: { lowerMs: number; upperMs: number } | null;
    /** Followers whose feed never showed the post before the deadline. */
    missing: number;
    deadlineS: number;
    /** Polls each follower got per second, on average: the lag's resolution is about 1/that. */
    pollsPerFollowerPerS: number;
    projectorLagMs: number | null;
    background: RatePoint;
  };
  redisMemory: {
    heads: number;
    usedBefore: number;
    usedAfter: number;
    bytesPerHead: number;
    /** MEMORY USAGE of the head keys alone, averaged over a sample. */
    headKeyBytes: number;
    extrapolatedBytes: number;
  };
  cpu: CpuSplit[];
}

export interface GoalCheck {
  id: string;
  goal: string;
  measured: string;
  /** The measured figure over the goal's threshold (a ratio goal's ratio, or value / budget). */
  ratio: number;
  met: boolean;
  /** What it takes to meet the goal, when missed. */
  gap: string | null;
}

export const GOALS = {
  cachedRps: 0.35,
  cachedP99Ms: 25,
  coldRps: 0.15,
  postsRps: 0.1,
  fanout: 0.25,
  lagP99Ms: 5000,
  mixed: 0.8,
  redisBytes: 6 * 1024 ** 3,
} as const;

function atLeast(
  id: string,
  goal: string,
  value: number,
  base: number,
  min: number,
  unit: string,
): GoalCheck {
  const ratio = base > 0 ? value / base : 0;
  const met = ratio >= min;
  let gap: string | null = null;
  if (!met)
    gap =
      value > 0
        ? `needs ${fmtNum(base * min)} ${unit}: ${round((base * min) / value, 1)}× the measured rate`
        : `nothing was measured (0 ${unit}); the goal is ${fmtNum(base * min)} ${unit}`;
  return {
    id,
    goal,
    measured: `${fmtNum(value)} ${unit} = ${pct(ratio)} of ${fmtNum(base)}`,
    ratio: round(ratio, 4),
    met,
    gap,
  };
}

function atMost(id: string, goal: string, value: number, budget: number, unit: string): GoalCheck {
  const met = value <= budget;
  return {
    id,
    goal,
    measured: `${fmtNum(value)} ${unit}`,
    ratio: round(value / budget, 4),
    met,
    gap: met ? null : `${fmtNum(value - budget)} ${unit} over the budget (${round(value / budget, 2)}×)`,
  };
}

export function checkGoals(r: BenchResults): GoalCheck[] {
  const hello = r.baselines.hello.rps;
  const lag = summarize(r.lag.lagsMs);
  const lagCheck = atMost(
    "lag",
    "a ≥ 100 000-follower author's post in every sampled follower's feed, p99 ≤ 5 s",
    r.lag.missing > 0 ? Number.POSITIVE_INFINITY : lag.p99,
    GOALS.lagP99Ms,
    "ms",
  );
  if (r.lag.missing > 0) {
    lagCheck.measured = `${r.lag.missing} of ${r.lag.sampled} followers never saw it within ${r.lag.deadlineS} s`;
    lagCheck.gap = `${r.lag.missing} followers missed the ${r.lag.deadlineS} s deadline`;
  }
  const redisCheck = atMost(
    "redis",
    "Redis memory for every active user's head at 1M users ≤ 6 GB",
    r.redisMemory.extrapolatedBytes,
    GOALS.redisBytes,
    "bytes",
  );
  redisCheck.measured = `${fmtBytes(r.redisMemory.extrapolatedBytes)} (${fmtBytes(r.redisMemory.bytesPerHead)} per head × ${fmtNum(r.seed.activeUsers)})`;
  if (redisCheck.gap)
    redisCheck.gap = `${fmtBytes(r.redisMemory.extrapolatedBytes - GOALS.redisBytes)} over 6 GB`;
  return [
    atLeast(
      "cached-rps",
      "cached GET /feed ≥ 35% of hello-world req/s",
      r.cached.max.rps,
      hello,
      GOALS.cachedRps,
      "req/s",
    ),
    atMost(
      "cached-p99",
      "cached GET /feed p99 ≤ 25 ms at 70% of its maximum rate",
      r.cached.at70.latency.p99,
      GOALS.cachedP99Ms,
      "ms",
    ),
    atLeast(
      "cold-rps",
      "cold GET /feed ≥ 15% of hello-world req/s",
      r.cold.rps,
      hello,
      GOALS.coldRps,
      "req/s",
    ),
    atLeast(
      "posts-rps",
      "POST /posts ≥ 10% of hello-world req/s",
      r.posts.rps,
      hello,
      GOALS.postsRps,
      "req/s",
    ),
    atLeast(
      "fanout",
      "fan-out ≥ 25% of raw COPY rows/s",
      r.fanout.rowsPerS,
      r.baselines.copyRowsPerS,
      GOALS.fanout,
      "rows/s",
    ),
    lagCheck,
    atLeast(
      "mixed",
      "mixed 50:1 read:write ≥ 80% of cached read-only req/s",
      r.mixed.rps,
      r.mixed.readOnlyRps,
      GOALS.mixed,
      "req/s",
    ),
    redisCheck,
  ];
}

/**
 * What the CPU split says about a throughput gap: the machine's CPU per request bounds the rate
 * whatever the code waits on, so a run that kept every core busy is CPU-bound, and the parts
 * that used most of it are where the time has to come from.
 */
export function cpuExplanation(split: CpuSplit, hello: CpuSplit | undefined, cores: number): string {
  const p = split.perRequestMs;
  const parts = [...CPU_PARTS, "other"] as const;
  const ranked = parts
    .map((k) => [k, p[k]] as const)
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1]);
  const top = ranked
    .slice(0, 3)
    .map(([k, v]) => `${k} ${fmtMs(v)} (${pct(p.total > 0 ? v / p.total : 0)})`)
    .join(", ");
  const bound = p.total > 0 ? (cores * 1000) / p.total : 0;
  const busy =
    split.utilization >= 0.9
      ? `the cores were ${pct(split.utilization)} busy, so the rate is CPU-bound`
      : `the cores were only ${pct(split.utilization)} busy, so part of the limit is waiting, not CPU`;
  const vsHello = hello
    ? `; a hello-world request cost ${fmtMs(hello.perRequestMs.total)} in all, ${round(p.total / Math.max(hello.perRequestMs.total, 1e-9), 0)}× less`
    : "";
  const rate = split.seconds > 0 ? split.requests / split.seconds : 0;
  const deferred =
    bound > 0 && rate > bound * 1.1
      ? `; the run went faster (${fmtNum(rate)}/s) only because part of the work, the projector's, was done after it`
      : "";
  return `${fmtMs(p.total)} of CPU per request over the whole machine (${top})${vsHello}; ${cores} cores fit at most ${fmtNum(bound)} such requests/s${deferred}; ${busy}.`;
}
