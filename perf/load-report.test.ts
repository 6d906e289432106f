import { describe, expect, test } from "bun:test";
import { percentile } from "./lib/stats.ts";
import {
  buildReport,
  formatReport,
  type MetricsSnapshot,
  parseLoadArgs,
  parsePromText,
  type RunData,
  reportFileName,
  requestKind,
  snapshotOf,
  sumOf,
  UsageError,
} from "./load-report.ts";

describe("parseLoadArgs", () => {
  test("defaults: mixed, 30 s, 200 req/s offered, one connection per 10 req/s", () => {
    expect(parseLoadArgs([])).toEqual({
      scenario: "mixed",
      durationS: 30,
      rate: 200,
      connections: 20,
      users: 200,
      baseUrl: "http://127.0.0.1:3000",
      metricsUrl: "http://127.0.0.1:9102",
      projectorUrl: "http://127.0.0.1:9101",
      maxErrorRate: 0.01,
      minRateRatio: 0.9,
    });
  });

  test("takes --name value and --name=value", () => {
    expect(
      parseLoadArgs([
        "--scenario",
        "feed",
        "--duration=10",
        "--rate",
        "100",
        "--connections",
        "7",
        "--users=50",
        "--base-url",
        "http://localhost:3100/",
        "--max-error-rate",
        "0.05",
        "--min-rate-ratio=0.8",
      ]),
    ).toMatchObject({
      scenario: "feed",
      durationS: 10,
      rate: 100,
      connections: 7,
      users: 50,
      baseUrl: "http://localhost:3100",
      maxErrorRate: 0.05,
      minRateRatio: 0.8,
    });
  });

  test("a low rate never gets more connections than requests per second", () => {
    expect(parseLoadArgs(["--rate", "2"]).connections).toBe(2);
    expect(parseLoadArgs(["--rate", "30"]).connections).toBe(4);
  });

  test("refuses what it does not understand, naming the option", () => {
    const bad: [string[], RegExp][] = [
      [["--scenario", "reads"], /--scenario must be one of feed, posts, likes, mixed/],
      [["--rate", "0"], /--rate must be an integer from 1/],
      [["--rate", "fast"], /--rate/],
      [["--duration", "1.5"], /--duration must be an integer/],
      [["--max-error-rate", "2"], /--max-error-rate must be a number from 0 to 1/],
      [["--users"], /--users needs a value/],
      [["--turbo", "1"], /unknown option --turbo/],
      [["feed"], /unexpected argument "feed"/],
      // Load stays on this machine.
      [["--base-url", "http://10.0.0.5:3000"], /--base-url must be a loopback URL/],
      [["--projector-url", "https://example.com"], /--projector-url must be a loopback URL/],
    ];
    for (const [argv, message] of bad) {
      expect(() => parseLoadArgs(argv)).toThrow(UsageError);
      expect(() => parseLoadArgs(argv)).toThrow(message);
    }
  });
});

describe("requestKind", () => {
  test("single scenarios send one kind", () => {
    expect([0, 1, 50, 51].map((n) => requestKind("feed", n))).toEqual(["feed", "feed", "feed", "feed"]);
    expect(requestKind("posts", 7)).toBe("post");
    expect(requestKind("likes", 7)).toBe("like");
  });

  test("mixed is 50 reads to 1 write, the writes alternating post and like", () => {
    const kinds = Array.from({ length: 51 * 4 }, (_, n) => requestKind("mixed", n));
    expect(kinds.filter((k) => k === "feed")).toHaveLength(200);
    expect(kinds.filter((k) => k !== "feed")).toEqual(["post", "like", "post", "like"]);
    expect(kinds.slice(0, 51).indexOf("post")).toBe(50);
  });
});

const API_TEXT = `# HELP feed_cache_requests_total Feed head cache lookups by result
# TYPE feed_cache_requests_total counter
feed_cache_requests_total{result="hit"} 120
feed_cache_requests_total{result="miss"} 30
http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/feed",status="200"} 150
http_request_duration_seconds_sum{method="GET",route="/feed",status="200"} NaN
`;
const PROJECTOR_TEXT = `# TYPE stream_pending_entries gauge
stream_pending_entries{group="projector"} 3
stream_pending_entries{group="media"} 0
# TYPE stream_lag_entries gauge
stream_lag_entries{group="projector"} 10
stream_lag_entries{group="media"} 2
dlq_entries 0
`;

describe("Prometheus text", () => {
  test("samples with labels, escapes, special values and timestamps", () => {
    const samples = parsePromText(
      `${API_TEXT}weird{a="x\\"y",b="l1\\nl2"} +Inf 1700000000000\nnot a sample line\n`,
    );
    expect(samples).toContainEqual({
      name: "feed_cache_requests_total",
      labels: { result: "hit" },
      value: 120,
    });
    expect(samples).toContainEqual({ name: "weird", labels: { a: 'x"y', b: "l1\nl2" }, value: Infinity });
    expect(samples.filter((s) => s.name.startsWith("#"))).toEqual([]);
    expect(sumOf(samples, "feed_cache_requests_total")).toBe(150);
    expect(sumOf(samples, "feed_cache_requests_total", { result: "miss" })).toBe(30);
    // NaN (an empty histogram's sum) is skipped, not propagated.
    expect(sumOf(samples, "http_request_duration_seconds_sum")).toBe(0);
    expect(sumOf(samples, "nothing")).toBe(0);
  });

  test("a snapshot is the backlog per group and the feed cache counters", () => {
    expect(snapshotOf(API_TEXT, PROJECTOR_TEXT)).toEqual({
      backlog: { projector: { lag: 10, pending: 3 }, media: { lag: 2, pending: 0 } },
      backlogTotal: 15,
      cache: { hit: 120, miss: 30 },
    });
    expect(snapshotOf("", "")).toEqual({ backlog: {}, backlogTotal: 0, cache: { hit: 0, miss: 0 } });
  });
});

describe("percentile", () => {
  test("nearest rank", () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(v, 50), percentile(v, 95), percentile(v, 99), percentile(v, 100)]).toEqual([
      50, 95, 99, 100,
    ]);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBe(0);
  });
});

const snap = (backlog: number, hit: number, miss: number): MetricsSnapshot => ({
  backlog: { projector: { lag: backlog, pending: 0 } },
  backlogTotal: backlog,
  cache: { hit, miss },
});

const run = (over: Partial<RunData> = {}): RunData => ({
  scenario: "mixed",
  offeredRate: 100,
  durationS: 10,
  elapsedS: 10,
  connections: 10,
  users: 50,
  // 1..1000 ms, shuffled: the report sorts.
  latenciesMs: Array.from({ length: 1000 }, (_, i) => ((i * 7919) % 1000) + 1),
  statuses: { "200": 980, "201": 20 },
  errors: 0,
  timeouts: 0,
  before: snap(4, 100, 10),
  after: snap(6, 900, 60),
  limits: { maxErrorRate: 0.01, minRateRatio: 0.9 },
  startedAt: "2026-11-27T04:00:00.000Z",
  baseUrl: "http://127.0.0.1:3000",
  ...over,
});

describe("buildReport", () => {
  test("rates, percentiles, errors, backlog and cache deltas", () => {
    const r = buildReport(run());
    expect(r).toMatchObject({
      requests: 1000,
      rps: { offered: 100, achieved: 100, ratio: 1 },
      latency_ms: { p50: 500, p95: 950, p99: 990, max: 1000 },
      errors: { rate: 0, count: 0, by_status: { "200": 980, "201": 20 } },
      backlog: { before: 4, after: 6, by_group: { projector: { before: 4, after: 6 } } },
      cache: { hits: 800, misses: 50, hit_ratio: 0.941 },
      ok: true,
      failures: [],
    });
  });

  test("non-2xx responses and requests without a response count as errors, by status", () => {
    const r = buildReport(run({ statuses: { "200": 970, "404": 5, "500": 10 }, errors: 15, timeouts: 5 }));
    expect(r.requests).toBe(1000);
    expect(r.errors).toEqual({
      rate: 0.03,
      count: 30,
      by_status: { "200": 970, "404": 5, "500": 10, timeout: 5, error: 10 },
    });
    expect(r.ok).toBe(false);
    expect(r.failures).toEqual(["error rate 3% is above the limit of 1% (30 of 1000 requests not 2xx)"]);
  });

  test("a generator that falls behind the offered rate fails, saying so", () => {
    const r = buildReport(run({ statuses: { "200": 800 }, latenciesMs: [1, 2, 3] }));
    expect(r.rps).toEqual({ offered: 100, achieved: 80, ratio: 0.8 });
    expect(r.failures).toEqual([
      "the load generator could not keep the offered rate: 80 of 100 req/s (below 90%)",
    ]);
    // Exactly at the limit passes.
    expect(buildReport(run({ statuses: { "200": 900 } })).ok).toBe(true);
  });

  test("no traffic, no cache lookups: a failure and a hit ratio of n/a", () => {
    const r = buildReport(
      run({ statuses: {}, latenciesMs: [], before: snap(0, 5, 5), after: snap(0, 5, 5) }),
    );
    expect(r.cache.hit_ratio).toBeNull();
    expect(r.latency_ms).toEqual({ p50: 0, p95: 0, p99: 0, max: 0 });
    expect(r.failures[0]).toBe("no request completed");
    expect(formatReport(r)).toContain("hit ratio n/a");
  });

  test("the table names every figure", () => {
    const text = formatReport(buildReport(run()));
    for (const want of [
      "mixed against http://127.0.0.1:3000, 50 users, 10 connections",
      "1000 (200: 980, 201: 20)",
      "100 of 100 req/s offered (100%)",
      "p50 500 ms · p95 950 ms · p99 990 ms · max 1000 ms",
      "0% not 2xx",
      "4 → 6 entries (projector 4→6)",
      "800 hits, 50 misses, hit ratio 94.1%",
      "verdict     ok",
    ])
      expect(text).toContain(want);
  });
});

test("report file names sort by time and hold no colon", () => {
  expect(reportFileName("feed", new Date("2026-11-27T04:05:06.789Z"))).toBe(
    "load-feed-20261127T040506Z.json",
  );
});
