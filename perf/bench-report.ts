// Pure parts of the benchmark (perf/bench.ts): parsing what other tools print (redis-benchmark,
// /proc, INFO), latency summaries, CPU accounting, the goal checks and the Markdown report (the
// charts are in bench-charts.ts). Kept free of I/O so they are unit-tested; bench.ts measures.
import { percentile } from "./load-report.ts";

// ---------------------------------------------------------------- latency and runs

export interface Latency {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** p50/p95/p99/max of response times in ms (nearest rank, as perf/load-report.ts). */
export function summarize(latenciesMs: ArrayLike<number>): Latency {
  const sorted = Float64Array.from(latenciesMs as ArrayLike<number>).sort();
  return {
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.length ? sorted[sorted.length - 1]! : 0),
  };
}

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

/** Requests answered with a status other than 2xx, or not answered at all. */
export function failedCount(statuses: Record<string, number>): number {
  return Object.entries(statuses)
    .filter(([s]) => !/^2\d\d$/.test(s))
    .reduce((n, [, c]) => n + c, 0);
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

const pct = (x: number) => `${round(x * 100, 1)}%`;

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

// ---------------------------------------------------------------- formatting

/** Share of a run's CPU that none of the stack's parts explains, above which the run is suspect. */
export const OTHER_SHARE_WARNING = 0.2;

/**
 * Runs during which something outside the stack used a good share of the CPU (another user's
 * tests): their figures are pessimistic, and the report says so next to the table.
 */
export function contentionNote(r: BenchResults): string[] {
  const hit = [
    ...r.cpu
      .filter((c) => c.perRequestMs.total > 0)
      .map((c) => ({ name: c.scenario, share: c.perRequestMs.other / c.perRequestMs.total })),
    ...r.cached.sweep.map((p) => ({ name: `cached sweep ${pct(p.share)}`, share: p.outsideShare ?? 0 })),
  ].filter((x) => x.share > OTHER_SHARE_WARNING);
  const before = `Before the first run the cores were ${pct(r.busyBefore)} busy with nothing of the bench's running.`;
  if (hit.length === 0)
    return [
      `${before} No run shared the machine with much else (other ≤ ${pct(OTHER_SHARE_WARNING)} of its CPU).`,
      "",
    ];
  return [
    `${before} **Shared machine**: during ${hit.map((x) => `${x.name} (${pct(x.share)})`).join(", ")} ` +
      `more than ${pct(OTHER_SHARE_WARNING)} of the CPU went to processes outside the stack, so those figures are pessimistic.`,
    "",
  ];
}

export function fmtNum(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return round(n, digits).toLocaleString("en-US", { maximumFractionDigits: digits }).replace(/,/g, " ");
}

export function fmtBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${fmtNum(v)} ${units[i]}`;
}

export function fmtMs(ms: number): string {
  return ms < 1 ? `${fmtNum(ms * 1000)} µs` : `${fmtNum(ms)} ms`;
}

const statusText = (s: Record<string, number>) =>
  Object.entries(s)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ") || "none";

/** perf/reports/<date>.md and its charts, named by the run's UTC date. */
export function reportNames(at: Date): { date: string; md: string; latencyPng: string; lagPng: string } {
  const date = at.toISOString().slice(0, 10);
  return {
    date,
    md: `${date}.md`,
    latencyPng: `${date}-feed-latency.png`,
    lagPng: `${date}-fanout-lag.png`,
  };
}

function table(head: string[], rows: (string | number)[][], align: ("l" | "r")[]): string {
  const sep = align.map((a) => (a === "r" ? "---:" : "---"));
  return [head, sep, ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
}

/** The Markdown report. `notes` (hand-written profile findings) is appended when given. */
export function formatBenchReport(r: BenchResults, goals: GoalCheck[], notes = ""): string {
  const names = reportNames(new Date(r.startedAt));
  const hello = r.baselines.hello;
  const vs = (rps: number) => round(rps / hello.rps, 4);
  const lag = summarize(r.lag.lagsMs);
  const lower = summarize(r.lag.lagsLowerMs);
  const cpuOf = (name: string) => r.cpu.find((c) => c.scenario === name);
  const minutes = (Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 60_000;
  const out: string[] = [];
  out.push(
    `# Benchmark report, ${names.date}`,
    "",
    `\`./dev bench\` on the 1M-user seed (${fmtNum(r.seed.users)} users, seed ${r.seed.seed}, ` +
      `${fmtNum(r.seed.activeUsers)} active), ${r.cores} cores shared by the api, the projector, ` +
      `PostgreSQL, Redis and the load generator. Started ${r.startedAt}, took ${fmtNum(minutes)} min; ` +
      `${r.seconds} s per closed-loop run and per sweep step, ${r.connections} connections. ` +
      "Every figure is compared with a baseline measured in the same run: the machine is shared, " +
      "absolute numbers drift from run to run, ratios much less. " +
      `Code: commit ${r.code.commit.slice(0, 12)}` +
      (r.code.dirty.length ? ` with uncommitted changes to ${r.code.dirty.join(", ")}` : "") +
      `; the api process started ${r.processes.api ?? "(unknown)"}, the projector ${r.processes.projector ?? "(unknown)"} ` +
      "(code changed after a process started is not what was measured).",
    "",
    "## Goals",
    "",
    table(
      ["goal", "measured", "ratio", "verdict", "gap"],
      goals.map((g) => [g.goal, g.measured, String(g.ratio), g.met ? "**met**" : "**missed**", g.gap ?? "—"]),
      ["l", "l", "r", "l", "l"],
    ),
    "",
    `${goals.filter((g) => g.met).length} of ${goals.length} goals met.`,
    "",
    "## Figures",
    "",
    table(
      ["scenario", "rate", "p50", "p95", "p99", "vs baseline", "statuses"],
      [
        [
          "Elysia hello-world, in-process Bun.serve (baseline)",
          `${fmtNum(hello.rps)} req/s`,
          fmtMs(hello.latency.p50),
          fmtMs(hello.latency.p95),
          fmtMs(hello.latency.p99),
          "1",
          statusText(hello.statuses),
        ],
        [
          `cached GET /feed, closed loop (${r.cached.readers} warm readers)`,
          `${fmtNum(r.cached.max.rps)} req/s`,
          fmtMs(r.cached.max.latency.p50),
          fmtMs(r.cached.max.latency.p95),
          fmtMs(r.cached.max.latency.p99),
          `${vs(r.cached.max.rps)} of hello-world`,
          statusText(r.cached.max.statuses),
        ],
        [
          `cached GET /feed at 70% (${fmtNum(r.cached.at70.offered)} req/s offered, paced)`,
          `${fmtNum(r.cached.at70.achieved)} req/s`,
          fmtMs(r.cached.at70.latency.p50),
          fmtMs(r.cached.at70.latency.p95),
          fmtMs(r.cached.at70.latency.p99),
          "—",
          statusText(r.cached.at70.statuses),
        ],
        [
          `cold GET /feed (${fmtNum(r.cold.requests)} readers, head deleted before)`,
          `${fmtNum(r.cold.rps)} req/s`,
          fmtMs(r.cold.latency.p50),
          fmtMs(r.cold.latency.p95),
          fmtMs(r.cold.latency.p99),
          `${vs(r.cold.rps)} of hello-world`,
          statusText(r.cold.statuses),
        ],
        [
          "POST /posts (authors with ≤ 10 followers)",
          `${fmtNum(r.posts.rps)} req/s`,
          fmtMs(r.posts.latency.p50),
          fmtMs(r.posts.latency.p95),
          fmtMs(r.posts.latency.p99),
          `${vs(r.posts.rps)} of hello-world`,
          statusText(r.posts.statuses),
        ],
        [
          `POST /likes (${fmtNum(r.likes.newLikes)} new likes of ${fmtNum(r.likes.requests)})`,
          `${fmtNum(r.likes.rps)} req/s`,
          fmtMs(r.likes.latency.p50),
          fmtMs(r.likes.latency.p95),
          fmtMs(r.likes.latency.p99),
          `${vs(r.likes.rps)} of hello-world`,
          statusText(r.likes.statuses),
        ],
        [
          `mixed 50:1 (${fmtNum(r.mixed.reads)} reads, ${fmtNum(r.mixed.writes)} writes)`,
          `${fmtNum(r.mixed.rps)} req/s`,
          fmtMs(r.mixed.latency.p50),
          fmtMs(r.mixed.latency.p95),
          fmtMs(r.mixed.latency.p99),
          `${round(r.mixed.rps / Math.max(r.mixed.readOnlyRps, 1e-9), 3)} of cached read-only just before (${fmtNum(r.mixed.readOnlyRps)} req/s)`,
          statusText(r.mixed.statuses),
        ],
        [
          `fan-out, ${r.fanout.posts} posts of push authors`,
          `${fmtNum(r.fanout.rowsPerS)} rows/s`,
          "—",
          "—",
          "—",
          `${round(r.fanout.rowsPerS / Math.max(r.baselines.copyRowsPerS, 1e-9), 3)} of raw COPY`,
          "—",
        ],
        [
          `fan-out lag, ${fmtNum(r.lag.authorFollowers)}-follower author, ${r.lag.sampled} followers`,
          "—",
          fmtMs(lag.p50),
          fmtMs(lag.p95),
          fmtMs(lag.p99),
          `max ${fmtMs(lag.max)}`,
          r.lag.missing ? `${r.lag.missing} never saw it` : "all saw it",
        ],
      ],
      ["l", "r", "r", "r", "r", "r", "l"],
    ),
    "",
    "Latencies are client-side, for every response whatever its status.",
    "",
    "## Baselines",
    "",
    table(
      ["baseline", "rate", "p50", "p99", "how"],
      [
        [
          "Elysia hello-world",
          `${fmtNum(hello.rps)} req/s`,
          fmtMs(hello.latency.p50),
          fmtMs(hello.latency.p99),
          `autocannon, ${r.connections} connections, ${fmtNum(hello.seconds)} s; the server and autocannon share the bench process (one JS thread), so this baseline uses about one core`,
        ],
        [
          "raw COPY",
          `${fmtNum(r.baselines.copyRowsPerS)} rows/s`,
          "—",
          "—",
          `${fmtNum(r.baselines.copyRows)} rows of two bigints into a plain unindexed table (db/seed.ts rawCopyRate)`,
        ],
        ...r.baselines.redis.map((b) => [
          `redis-benchmark \`${b.test}\``,
          `${fmtNum(b.rps)} ops/s`,
          fmtMs(b.p50),
          fmtMs(b.p99),
          "50 clients, no pipelining, database 3",
        ]),
      ],
      ["l", "r", "r", "r", "l"],
    ),
    "",
    "## Cached GET /feed: latency against offered load",
    "",
    `![p50, p95 and p99 of cached GET /feed against the offered rate](${names.latencyPng})`,
    "",
    table(
      [
        "offered",
        "share of max",
        "achieved",
        "dropped",
        "p50",
        "p95",
        "p99",
        "max",
        "statuses",
        "CPU outside the stack",
      ],
      r.cached.sweep.map((s) => [
        `${fmtNum(s.offered)} req/s`,
        pct(s.share),
        `${fmtNum(s.achieved)} req/s`,
        fmtNum(s.dropped),
        fmtMs(s.latency.p50),
        fmtMs(s.latency.p95),
        fmtMs(s.latency.p99),
        fmtMs(s.latency.max),
        statusText(s.statuses),
        s.outsideShare === undefined ? "—" : pct(s.outsideShare),
      ]),
      ["r", "r", "r", "r", "r", "r", "r", "r", "l", "r"],
    ),
    "",
    "Each step is an open-loop run: the bench's pacer sends request i at start + i/rate (evenly " +
      "spaced, at most 256 waiting; one that would be the 257th is dropped and counted) and " +
      "times it from that moment, so time spent queueing in the client counts too.",
  );
  if (r.cached.autocannon70) {
    const a = r.cached.autocannon70;
    out.push(
      "",
      `For comparison, autocannon's \`overallRate\` at the same ${fmtNum(a.offered)} req/s: p50 ` +
        `${fmtMs(a.latency.p50)}, p95 ${fmtMs(a.latency.p95)}, p99 ${fmtMs(a.latency.p99)} ` +
        `(${fmtNum(a.achieved)} req/s achieved). It sends each connection's share back to back at the ` +
        "start of every second, so most requests wait behind a burst: its percentiles describe the " +
        "burst, not the offered rate, and the goal is checked against the paced run.",
    );
  }
  out.push(
    "",
    "## Fan-out",
    "",
    `Throughput: ${r.fanout.posts} posts by seeded push authors (2 000–9 000 followers, ` +
      `${fmtNum(r.fanout.followers)} followers in all) published at once through POST /posts; ` +
      `\`fanout_rows_total\` grew by ${fmtNum(r.fanout.rows)} in ${fmtNum(r.fanout.wallSeconds)} s, from the ` +
      `first post to the last row (${r.fanout.drained ? "every event handled, no fan-out job left" : "**the fan-out had not finished by the deadline**"}): ` +
      `**${fmtNum(r.fanout.rowsPerS)} rows/s**, ${pct(r.fanout.rowsPerS / Math.max(r.baselines.copyRowsPerS, 1e-9))} of raw COPY. ` +
      `Followers considered: ${fmtNum(r.fanout.followersPerS)}/s (the authors' followers over the same time). ` +
      "A batch reads only `active_follows`, the follows of readers who are not away (sql/0013): the " +
      "others cost nothing now and get their feed rebuilt when they return, so rows are " +
      `${pct(r.fanout.rows / Math.max(r.fanout.followers, 1))} of followers. Posts with more than FANOUT_INLINE_MAX ` +
      "active followers are fanned out by the projector's fan-out lane (FANOUT_LANE_WORKERS workers, SKIP " +
      "LOCKED, no rest while jobs wait); the other posts of one read go out together, up to FANOUT_BATCH_SIZE " +
      "rows per statement.",
    "",
    `Lag: one post by a seeded author with ${fmtNum(r.lag.authorFollowers)} followers, then ` +
      `${r.lag.sampled} of those followers (${r.lag.activeSampled} of them active) polled GET /feed by ` +
      `${r.lag.pollers} pollers until it appeared, while a paced cached-read load of ${fmtNum(r.lag.background.offered)} req/s ` +
      `(${pct(r.lag.background.share)} of the maximum; ${fmtNum(r.lag.background.achieved)} achieved, p99 ` +
      `${fmtMs(r.lag.background.latency.p99)}) ran beside them. A follower's lag is from sending the POST to ` +
      `receiving the first page that holds the post: p50 **${fmtMs(lag.p50)}**, p95 ${fmtMs(lag.p95)}, ` +
      `p99 **${fmtMs(lag.p99)}**, max ${fmtMs(lag.max)}` +
      `${r.lag.missing ? `; **${r.lag.missing} never saw it within ${r.lag.deadlineS} s**` : ""}. ` +
      `It is an upper bound set mostly by the polling: a round over every follower took ` +
      `${fmtMs(1000 / Math.max(r.lag.pollsPerFollowerPerS, 1e-9))}, and the last poll without the post was sent at ` +
      (lower.max === 0
        ? "0 ms for every follower: each one's first poll already showed it. "
        : `p50 ${fmtMs(lower.p50)}, p99 ${fmtMs(lower.p99)} (the lower bound, dashed in the chart). `) +
      (r.lag.closeUp
        ? `One follower polled back to back by its own poller saw it between ${fmtMs(r.lag.closeUp.lowerMs)} and ` +
          `${fmtMs(r.lag.closeUp.upperMs)} after the POST was sent. `
        : "") +
      (r.lag.projectorLagMs === null
        ? ""
        : `The projector handled the event ${fmtMs(r.lag.projectorLagMs)} after it occurred (\`projector_event_lag_seconds\`). `) +
      `The author is above FANOUT_PULL_THRESHOLD (${fmtNum(r.config.pullThreshold)}), so this is the ` +
      "**pull path**: nothing is written to the followers' feeds; the projector puts the post on the " +
      "author's cached list and each reader merges the pull authors it follows at read time.",
    "",
    `![Share of sampled followers whose feed shows the post, against time since the POST](${names.lagPng})`,
    "",
    "## Redis memory",
    "",
    `INFO \`used_memory\` went from ${fmtBytes(r.redisMemory.usedBefore)} to ${fmtBytes(r.redisMemory.usedAfter)} ` +
      `while ${fmtNum(r.redisMemory.heads)} cold readers' heads were rebuilt (the cold run): ` +
      `**${fmtBytes(r.redisMemory.bytesPerHead)} per reader**, which includes their pull-author lists ` +
      "and the post, author and count caches their first pages filled. The head keys alone " +
      `(MEMORY USAGE, sampled) are ${fmtBytes(r.redisMemory.headKeyBytes)} each. For the ` +
      `${fmtNum(r.seed.activeUsers)} active users of the 1M seed that is ` +
      `**${fmtBytes(r.redisMemory.extrapolatedBytes)}** (with the ${fmtBytes(r.redisMemory.usedBefore)} ` +
      "already in use), against the 6 GB goal. Another client writing to the same Redis meanwhile " +
      "(another database's tests) would add to the delta, so the head-only figure is the floor.",
    "",
    "## Where the CPU went",
    "",
    table(
      [
        "run",
        "requests",
        "api",
        "projector",
        "Redis",
        "PostgreSQL",
        "bench process",
        "other",
        "total",
        "cores busy",
      ],
      r.cpu.map((c) => [
        c.scenario,
        fmtNum(c.requests),
        fmtMs(c.perRequestMs.api),
        fmtMs(c.perRequestMs.projector),
        fmtMs(c.perRequestMs.redis),
        fmtMs(c.perRequestMs.postgres),
        fmtMs(c.perRequestMs.generator),
        fmtMs(c.perRequestMs.other),
        fmtMs(c.perRequestMs.total),
        pct(c.utilization),
      ]),
      ["l", "r", "r", "r", "r", "r", "r", "r", "r", "r"],
    ),
    "",
    ...contentionNote(r),
    `GET /metrics took ${fmtMs(r.scrapeMs.api)} on the idle api and ${fmtMs(r.scrapeMs.projector)} on the projector; ` +
      "a process answers nothing else while it builds that page.",
    "",
    "CPU time per request during each closed-loop run (for the writes and the mix, until the projector " +
      "had handled their events too): the api's and projector's " +
      "`process_cpu_seconds_total`, Redis's INFO `used_cpu_*`, PostgreSQL's processes from /proc, " +
      "the bench process itself (autocannon, and the hello-world server in the baseline), and the " +
      "rest of the machine's busy time (/proc/stat): Prometheus, exporters, other users.",
    "",
    "## Causes of the misses",
    "",
  );
  const missed = goals.filter((g) => !g.met);
  if (missed.length === 0) out.push("None: every goal was met.");
  const helloCpu = cpuOf("hello-world");
  const cause: Record<string, () => string> = {
    "cached-rps": () => {
      const c = cpuOf("cached GET /feed");
      return c ? cpuExplanation(c, helloCpu, r.cores) : "";
    },
    "cold-rps": () => {
      const c = cpuOf("cold GET /feed");
      return c ? cpuExplanation(c, helloCpu, r.cores) : "";
    },
    "posts-rps": () => {
      const c = cpuOf("POST /posts");
      return c ? cpuExplanation(c, helloCpu, r.cores) : "";
    },
    mixed: () => {
      const c = cpuOf("mixed 50:1");
      const cached = cpuOf("cached GET /feed");
      return c && cached
        ? `A mixed request cost ${fmtMs(c.perRequestMs.total)} of CPU against ${fmtMs(cached.perRequestMs.total)} for a cached read: ${cpuExplanation(c, undefined, r.cores)}`
        : "";
    },
    "cached-p99": () => {
      const low = r.cached.sweep[0];
      const at70 = r.cached.at70.latency;
      const head = `At 70% of the maximum the p50 is ${fmtMs(at70.p50)} and the p99 ${fmtMs(at70.p99)}`;
      // A tail already over budget at the lowest offered rate is not queueing behind the load.
      if (low && low.latency.p99 > GOALS.cachedP99Ms)
        return (
          `${head}, but already at ${pct(low.share)} of it the p99 is ${fmtMs(low.latency.p99)} ` +
          `(p50 ${fmtMs(low.latency.p50)}): the tail is not queueing behind the offered load but occasional ` +
          "stalls that catch a read at any rate. " +
          (r.scrapeMs.api > 10
            ? `The idle api took ${fmtMs(r.scrapeMs.api)} to answer GET /metrics, and serves nothing else meanwhile: ` +
              "every Prometheus scrape stalls the reads in flight (see the profile findings)."
            : "Candidates: garbage collection, and background work of Prometheus, the projector and PostgreSQL on the same cores.")
        );
      return `${head}; at ${pct(low?.share ?? 0)} the p99 is ${fmtMs(low?.latency.p99 ?? 0)}: the tail grows with the load, queueing on two cores shared by every process of the stack and the generator.`;
    },
    fanout: () => {
      const c = cpuOf("fan-out (per row)");
      const per = c?.perRequestMs;
      return (
        `The fan-out ran ${fmtNum(r.fanout.wallSeconds)} s for ${fmtNum(r.fanout.rows)} rows, going through ` +
        `${fmtNum(r.fanout.followersPerS)} followers/s considered (rows go only to the active ones)` +
        (per
          ? `, ${fmtMs(per.total)} of CPU per row (PostgreSQL ${fmtMs(per.postgres)}, projector ${fmtMs(per.projector)}, ` +
            `Redis ${fmtMs(per.redis)}; cores ${pct(c!.utilization)} busy)`
          : "") +
        ": each batch is an INSERT … SELECT from active_follows into the indexed user_feed partitions " +
        "(a primary key and an author index, random leaf pages of a table larger than shared_buffers), " +
        "then the Redis pushes, where COPY appends to one unindexed table."
      );
    },
    lag: () => "",
    redis: () => "",
  };
  for (const g of missed) {
    const why = cause[g.id]?.() ?? "";
    out.push(`- **${g.goal}**: ${g.gap}.${why ? ` ${why}` : ""}`);
  }
  if (notes.trim()) out.push("", notes.trim());
  out.push(
    "",
    "## How it was measured",
    "",
    "- Closed-loop runs (hello-world, the cached maximum, cold, posts, likes, mixed): autocannon with " +
      `${r.connections} connections, each response's status and time recorded by the bench itself ` +
      "(autocannon's own histogram keeps 2xx only). Rates are responses over the run's wall time.",
    `- Readers: ${r.cached.readers} active seeded users whose heads were warmed first, in turn; cold ` +
      "readers: other active seeded users, each read once, whose head and pull-author list were " +
      "deleted just before the run. Tokens signed in-process with core/tokens.ts.",
    "- Posts: seeded authors with at most 10 followers, so the run leaves no fan-out backlog; likes: " +
      "distinct (user, seeded post) pairs, new unless the seed already had them (201 new, 200 already liked).",
    "- The backlog is drained (stream lag and pending 0) before the fan-out and lag measurements.",
    `- Raw figures: perf/results/bench-${names.date}-*.json (not in git).`,
  );
  return `${out.join("\n")}\n`;
}
