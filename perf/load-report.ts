// Pure parts of the load runner (perf/load.ts): its options, the request mix, Prometheus text
// parsing, and the report with its pass/fail verdict. Kept free of I/O so they are unit-tested.
import { failedCount, round, summarize } from "./lib/stats.ts";

export const SCENARIOS = ["feed", "posts", "likes", "mixed"] as const;
export type Scenario = (typeof SCENARIOS)[number];
export type RequestKind = "feed" | "post" | "like";

export interface LoadOptions {
  scenario: Scenario;
  durationS: number;
  /** Offered rate, requests per second over all connections. */
  rate: number;
  connections: number;
  users: number;
  baseUrl: string;
  /** The api's metrics server (METRICS_PORT): the API's own port does not serve /metrics. */
  metricsUrl: string;
  projectorUrl: string;
  /** Fail when more than this share of requests is not 2xx. */
  maxErrorRate: number;
  /** Fail when the achieved rate is below this share of the offered one. */
  minRateRatio: number;
}

export const USAGE = `usage: ./dev load [options]   (or: bun perf/load.ts [options], with LOAD_TEST_SECRET set)

  --scenario feed|posts|likes|mixed   what to send (default mixed: 50 feed reads to 1 write,
                                      the writes alternating POST /posts and POST /likes)
  --duration SECONDS                  length of the run (default 30)
  --rate REQ_PER_S                    offered rate over all connections (default 200)
  --connections N                     connections (default: one per 10 req/s, at least 4)
  --users N                           seeded users to act as, via the load-test signer (default 200)
  --base-url URL                      the api (default http://127.0.0.1:3000; loopback only)
  --metrics-url URL                   the api's metrics server (default http://127.0.0.1:9102)
  --projector-url URL                 the projector's metrics server (default http://127.0.0.1:9101)
  --max-error-rate R                  fail above this non-2xx share (default 0.01)
  --min-rate-ratio R                  fail below this share of the offered rate (default 0.9)

Writes perf/results/load-<scenario>-<time>.json and exits 1 when a limit is broken.`;

export class UsageError extends Error {
  override name = "UsageError";
}

const LOOPBACK = /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?\/?$/;

/** Parses the command line; throws UsageError naming the bad option. */
export function parseLoadArgs(argv: string[], env: Record<string, string | undefined> = {}): LoadOptions {
  const given = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new UsageError(`unexpected argument "${arg}"`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new UsageError(`--${m[1]} needs a value`);
    given.set(m[1]!, value);
  }
  const known = [
    "scenario",
    "duration",
    "rate",
    "connections",
    "users",
    "base-url",
    "metrics-url",
    "projector-url",
    "max-error-rate",
    "min-rate-ratio",
  ];
  for (const k of given.keys()) if (!known.includes(k)) throw new UsageError(`unknown option --${k}`);

  const num = (name: string, def: number, min: number, max: number, integer = true): number => {
    const raw = given.get(name);
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max)
      throw new UsageError(`--${name} must be ${integer ? "an integer" : "a number"} from ${min} to ${max}`);
    return n;
  };
  const scenario = given.get("scenario") ?? "mixed";
  if (!(SCENARIOS as readonly string[]).includes(scenario))
    throw new UsageError(`--scenario must be one of ${SCENARIOS.join(", ")}`);
  const rate = num("rate", 200, 1, 100_000);
  // autocannon paces each connection to its share of the rate within every second and sends that
  // share back to back: ten per connection keeps up while requests take under ~100 ms.
  const connections = num("connections", Math.min(rate, Math.max(4, Math.ceil(rate / 10))), 1, 10_000);
  const baseUrl = (given.get("base-url") ?? env.LOAD_BASE_URL ?? "http://127.0.0.1:3000").replace(/\/$/, "");
  const metricsUrl = (given.get("metrics-url") ?? "http://127.0.0.1:9102").replace(/\/$/, "");
  const projectorUrl = (given.get("projector-url") ?? "http://127.0.0.1:9101").replace(/\/$/, "");
  // Load goes to this machine only: a stray --base-url must not aim a load generator elsewhere.
  for (const [name, url] of [
    ["base-url", baseUrl],
    ["metrics-url", metricsUrl],
    ["projector-url", projectorUrl],
  ] as const)
    if (!LOOPBACK.test(url)) throw new UsageError(`--${name} must be a loopback URL, not ${url}`);
  return {
    scenario: scenario as Scenario,
    durationS: num("duration", 30, 1, 3600),
    rate,
    connections,
    users: num("users", 200, 1, 100_000),
    baseUrl,
    metricsUrl,
    projectorUrl,
    maxErrorRate: num("max-error-rate", 0.01, 0, 1, false),
    minRateRatio: num("min-rate-ratio", 0.9, 0, 1, false),
  };
}

/** Reads per write in the mixed scenario. */
export const MIXED_READS_PER_WRITE = 50;

/**
 * The n-th request of a run (counted over all connections): the mixed scenario sends 50 feed
 * reads, then one write, the writes alternating between a post and a like.
 */
export function requestKind(scenario: Scenario, n: number): RequestKind {
  switch (scenario) {
    case "feed":
      return "feed";
    case "posts":
      return "post";
    case "likes":
      return "like";
    case "mixed": {
      const cycle = MIXED_READS_PER_WRITE + 1;
      if (n % cycle !== MIXED_READS_PER_WRITE) return "feed";
      return Math.floor(n / cycle) % 2 === 0 ? "post" : "like";
    }
  }
}

// ---------------------------------------------------------------- Prometheus text

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/g;

/** The samples of a Prometheus text exposition (comments and malformed lines skipped). */
export function parsePromText(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = SAMPLE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(LABEL))
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    const value = m[3] === "+Inf" ? Infinity : m[3] === "-Inf" ? -Infinity : Number(m[3]);
    out.push({ name: m[1]!, labels, value });
  }
  return out;
}

/** Sum of a metric's samples whose labels include `match`. */
export function sumOf(samples: PromSample[], name: string, match: Record<string, string> = {}): number {
  let total = 0;
  for (const s of samples) {
    if (s.name !== name || Number.isNaN(s.value)) continue;
    if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) total += s.value;
  }
  return total;
}

export interface MetricsSnapshot {
  /** Stream entries not yet delivered (lag) plus delivered and unacknowledged (pending), per group. */
  backlog: Record<string, { lag: number; pending: number }>;
  backlogTotal: number;
  cache: { hit: number; miss: number };
}

/** What the report needs from the api's and the projector's /metrics (docs/architecture.md §7 names). */
export function snapshotOf(apiText: string, projectorText: string): MetricsSnapshot {
  const api = parsePromText(apiText);
  const projector = parsePromText(projectorText);
  const backlog: MetricsSnapshot["backlog"] = {};
  for (const s of projector) {
    if (s.name !== "stream_lag_entries" && s.name !== "stream_pending_entries") continue;
    const group = s.labels.group ?? "";
    backlog[group] ??= { lag: 0, pending: 0 };
    backlog[group][s.name === "stream_lag_entries" ? "lag" : "pending"] += s.value;
  }
  return {
    backlog,
    backlogTotal: Object.values(backlog).reduce((n, b) => n + b.lag + b.pending, 0),
    cache: {
      hit: sumOf(api, "feed_cache_requests_total", { result: "hit" }),
      miss: sumOf(api, "feed_cache_requests_total", { result: "miss" }),
    },
  };
}

// ---------------------------------------------------------------- the report

export interface RunData {
  scenario: Scenario;
  offeredRate: number;
  durationS: number;
  /** Seconds the run actually took. */
  elapsedS: number;
  connections: number;
  users: number;
  /** Response time of every completed request, in ms. */
  latenciesMs: number[];
  /** Completed requests by status code. */
  statuses: Record<string, number>;
  /** Requests that got no response: connection errors, and timeouts among them. */
  errors: number;
  timeouts: number;
  before: MetricsSnapshot;
  after: MetricsSnapshot;
  limits: { maxErrorRate: number; minRateRatio: number };
  startedAt: string;
  baseUrl: string;
}

export interface LoadReport {
  scenario: Scenario;
  started_at: string;
  base_url: string;
  duration_s: number;
  connections: number;
  users: number;
  requests: number;
  rps: { offered: number; achieved: number; ratio: number };
  latency_ms: { p50: number; p95: number; p99: number; max: number };
  errors: { rate: number; count: number; by_status: Record<string, number> };
  backlog: {
    before: number;
    after: number;
    by_group: Record<string, { before: number; after: number }>;
  };
  cache: { hits: number; misses: number; hit_ratio: number | null };
  limits: { max_error_rate: number; min_rate_ratio: number };
  ok: boolean;
  failures: string[];
}

export function buildReport(d: RunData): LoadReport {
  const responded = Object.values(d.statuses).reduce((a, b) => a + b, 0);
  const requests = responded + d.errors;
  const byStatus: Record<string, number> = { ...d.statuses };
  const connErrors = d.errors - d.timeouts;
  if (d.timeouts > 0) byStatus.timeout = d.timeouts;
  if (connErrors > 0) byStatus.error = connErrors;
  const failed = failedCount(byStatus);
  const errorRate = requests === 0 ? 0 : failed / requests;
  const achieved = d.elapsedS > 0 ? responded / d.elapsedS : 0;
  const ratio = d.offeredRate > 0 ? achieved / d.offeredRate : 0;
  const hits = d.after.cache.hit - d.before.cache.hit;
  const misses = d.after.cache.miss - d.before.cache.miss;
  const groups = new Set([...Object.keys(d.before.backlog), ...Object.keys(d.after.backlog)]);
  const total = (b: { lag: number; pending: number } | undefined) => (b ? b.lag + b.pending : 0);

  const failures: string[] = [];
  if (requests === 0) failures.push("no request completed");
  if (errorRate > d.limits.maxErrorRate)
    failures.push(
      `error rate ${pct(errorRate)} is above the limit of ${pct(d.limits.maxErrorRate)} (${failed} of ${requests} requests not 2xx)`,
    );
  if (ratio < d.limits.minRateRatio)
    failures.push(
      `the load generator could not keep the offered rate: ${round(achieved, 1)} of ${d.offeredRate} req/s (below ${pct(d.limits.minRateRatio)})`,
    );
  return {
    scenario: d.scenario,
    started_at: d.startedAt,
    base_url: d.baseUrl,
    duration_s: round(d.elapsedS),
    connections: d.connections,
    users: d.users,
    requests,
    rps: { offered: d.offeredRate, achieved: round(achieved, 1), ratio: round(ratio, 3) },
    latency_ms: summarize(d.latenciesMs),
    errors: { rate: round(errorRate, 4), count: failed, by_status: byStatus },
    backlog: {
      before: d.before.backlogTotal,
      after: d.after.backlogTotal,
      by_group: Object.fromEntries(
        [...groups]
          .sort()
          .map((g) => [g, { before: total(d.before.backlog[g]), after: total(d.after.backlog[g]) }]),
      ),
    },
    cache: { hits, misses, hit_ratio: hits + misses > 0 ? round(hits / (hits + misses), 3) : null },
    limits: { max_error_rate: d.limits.maxErrorRate, min_rate_ratio: d.limits.minRateRatio },
    ok: failures.length === 0,
    failures,
  };
}

function pct(x: number): string {
  return `${round(x * 100, 2)}%`;
}

/** The report as a compact two-column table for a terminal. */
export function formatReport(r: LoadReport): string {
  const statuses = Object.entries(r.errors.by_status)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${s}: ${n}`)
    .join(", ");
  const groups = Object.entries(r.backlog.by_group)
    .map(([g, b]) => `${g} ${b.before}→${b.after}`)
    .join(", ");
  const rows: [string, string][] = [
    ["scenario", `${r.scenario} against ${r.base_url}, ${r.users} users, ${r.connections} connections`],
    ["duration", `${r.duration_s} s`],
    ["requests", `${r.requests} (${statuses || "none"})`],
    ["rate", `${r.rps.achieved} of ${r.rps.offered} req/s offered (${pct(r.rps.ratio)})`],
    [
      "latency",
      `p50 ${r.latency_ms.p50} ms · p95 ${r.latency_ms.p95} ms · p99 ${r.latency_ms.p99} ms · max ${r.latency_ms.max} ms`,
    ],
    ["errors", `${pct(r.errors.rate)} not 2xx (${r.errors.count}; limit ${pct(r.limits.max_error_rate)})`],
    ["backlog", `${r.backlog.before} → ${r.backlog.after} entries${groups ? ` (${groups})` : ""}`],
    [
      "feed cache",
      `${r.cache.hits} hits, ${r.cache.misses} misses, hit ratio ${r.cache.hit_ratio === null ? "n/a" : pct(r.cache.hit_ratio)}`,
    ],
    ["verdict", r.ok ? "ok" : `FAILED: ${r.failures.join("; ")}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join("\n");
}

/** perf/results/load-<scenario>-<ISO 8601 basic time>.json: sortable, and no ':' in a file name. */
export function reportFileName(scenario: Scenario, at: Date): string {
  const iso = at
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `load-${scenario}-${iso}.json`;
}
