import { describe, expect, test } from "bun:test";
import { contentionNote, formatBenchReport, reportNames } from "./bench/report.ts";
import {
  type BenchResults,
  checkGoals,
  cpuExplanation,
  cpuSplit,
  dueCount,
  outsideShare,
  parsePidStat,
  parseProcStat,
  parseRedisBenchmarkCsv,
  parseRedisInfo,
  type RatePoint,
  sweepRates,
  ticksBetween,
} from "./bench-report.ts";
import { fmtBytes, fmtMs, fmtNum } from "./lib/format.ts";
import { failedCount, summarize } from "./lib/stats.ts";

// The benchmark's pure parts: what it parses from other tools, how it judges the goals, and
// what it writes. Inputs are recorded outputs of this machine's tools (redis-benchmark 7.0,
// Linux /proc).

describe("parsing other tools' output", () => {
  test("redis-benchmark --csv: the header, then one line per test, custom commands included", () => {
    const out = [
      '"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"',
      '"GET bench:get","125786.16","0.258","0.056","0.247","0.383","0.655","1.863"',
      '"ZREVRANGE bench:zset 0 19","71762.50","0.420","0.080","0.407","0.700","1.143","3.100"',
      "",
    ].join("\n");
    expect(parseRedisBenchmarkCsv(out)).toEqual([
      { test: "GET bench:get", rps: 125786.16, p50: 0.247, p99: 0.655 },
      { test: "ZREVRANGE bench:zset 0 19", rps: 71762.5, p50: 0.407, p99: 1.143 },
    ]);
  });

  test("redis-benchmark output without a CSV header is an error that shows what came", () => {
    expect(() => parseRedisBenchmarkCsv("GET: 108108.11 requests per second, p50=0.247 msec")).toThrow(
      /no CSV header: GET: 108108/,
    );
    expect(() => parseRedisBenchmarkCsv('"test","rps"\n"GET x","1"')).toThrow(/no "p50_latency_ms" column/);
  });

  test("INFO: key:value lines, sections and blank lines skipped, CRLF tolerated", () => {
    const info = parseRedisInfo(
      "# Memory\r\nused_memory:12958184\r\nused_memory_human:12.36M\r\n\r\n# CPU\r\nused_cpu_sys:1.447749\r\n",
    );
    expect(info.get("used_memory")).toBe("12958184");
    expect(info.get("used_cpu_sys")).toBe("1.447749");
    expect(info.has("# Memory")).toBe(false);
  });

  test("/proc/stat: busy is user+nice+system+irq+softirq+steal; idle and iowait are not", () => {
    const stat = "cpu  524944 122 102193 6020734 18275 0 16733 1851 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n";
    expect(parseProcStat(stat)).toEqual({
      busy: 524944 + 122 + 102193 + 0 + 16733 + 1851,
      total: 524944 + 122 + 102193 + 6020734 + 18275 + 0 + 16733 + 1851,
    });
    expect(() => parseProcStat("intr 1 2 3")).toThrow(/no cpu line/);
  });

  test("/proc/<pid>/stat: utime + stime, counted from the last ')' of a name with spaces", () => {
    const line = "26047 (postgres: feed (x)) S 1 26047 26047 0 -1 4194560 3120 0 0 0 120 35 0 0 20 0 1 0";
    expect(parsePidStat(line)).toEqual({ comm: "postgres: feed (x)", ticks: 155 });
    expect(parsePidStat("7 (postgres) S 1 7 7 0 -1 0 0 0 0 0 10 5 0 0").comm).toBe("postgres");
    expect(() => parsePidStat("garbage")).toThrow(/not a \/proc/);
  });

  test("ticks between snapshots: new processes count from zero, ones that exited are lost", () => {
    const before = new Map([
      [1, 100],
      [2, 50],
    ]);
    const after = new Map([
      [1, 130],
      [3, 7],
    ]);
    expect(ticksBetween(before, after)).toBe(37);
  });
});

describe("runs", () => {
  test("summarize: nearest-rank percentiles of every latency, and the max", () => {
    const l = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(summarize(l)).toEqual({ p50: 50, p95: 95, p99: 99, max: 100 });
    expect(summarize([])).toEqual({ p50: 0, p95: 0, p99: 0, max: 0 });
  });

  test("failed requests: anything but 2xx, no-response outcomes included", () => {
    expect(failedCount({ "200": 10, "201": 3, "404": 2, "500": 1, timeout: 4, error: 1 })).toBe(8);
  });

  test("sweep rates: shares of the maximum, whole and at least 1 req/s", () => {
    expect(sweepRates(771.4, [0.2, 0.7, 1])).toEqual([
      { share: 0.2, rate: 154 },
      { share: 0.7, rate: 540 },
      { share: 1, rate: 771 },
    ]);
    expect(sweepRates(2, [0.1])).toEqual([{ share: 0.1, rate: 1 }]);
  });

  test("the pacer's schedule: request i is due at i/rate seconds, evenly, capped at the total", () => {
    expect(dueCount(-5, 100, 1000)).toBe(0);
    expect(dueCount(0, 100, 1000)).toBe(1);
    expect(dueCount(9.99, 100, 1000)).toBe(1);
    expect(dueCount(10, 100, 1000)).toBe(2);
    expect(dueCount(500, 100, 1000)).toBe(51);
    expect(dueCount(60_000, 100, 1000)).toBe(1000);
  });

  test("CPU split: ms per request per part, the unexplained rest, and how busy the cores were", () => {
    const s = cpuSplit(
      "cached",
      { api: 2, projector: 0.1, redis: 0.4, postgres: 2.1, generator: 0.3, machine: 5.5 },
      2000,
      3,
      2,
    );
    expect(s.perRequestMs).toEqual({
      api: 1,
      projector: 0.05,
      redis: 0.2,
      postgres: 1.05,
      generator: 0.15,
      other: 0.3,
      total: 2.75,
    });
    expect(s.utilization).toBeCloseTo(0.917, 3);
    // Counters read a moment apart can disagree a little: never a negative share.
    const skew = cpuSplit(
      "x",
      { api: 1, projector: 0, redis: 0, postgres: 0, generator: 0, machine: 0.9 },
      10,
      1,
      2,
    );
    expect(skew.perRequestMs.other).toBe(0);
    expect(
      cpuSplit("none", { api: 0, projector: 0, redis: 0, postgres: 0, generator: 0, machine: 0 }, 0, 0, 2),
    ).toMatchObject({ utilization: 0, perRequestMs: { total: 0 } });
  });

  test("the CPU explanation names the biggest parts, the bound it sets and whether it is CPU-bound", () => {
    const cached = cpuSplit(
      "cached",
      { api: 2, projector: 0, redis: 0.4, postgres: 2, generator: 0.2, machine: 5.8 },
      2000,
      3,
      2,
    );
    const hello = cpuSplit(
      "hello",
      { api: 0, projector: 0, redis: 0, postgres: 0, generator: 1.2, machine: 1.2 },
      50_000,
      1,
      2,
    );
    const text = cpuExplanation(cached, hello, 2);
    expect(text).toContain("2.9 ms of CPU per request");
    expect(text).toContain("api 1 ms (34.5%)");
    expect(text).toContain("at most 690 such requests/s");
    expect(text).toContain("121× less");
    expect(text).toContain("so the rate is CPU-bound");
    // A write run that outran the bound had left the projector's share for after it.
    const posts = cpuSplit(
      "posts",
      { api: 1, projector: 1.5, redis: 0.4, postgres: 2.6, generator: 0.2, machine: 5.8 },
      1000,
      2,
      2,
    );
    expect(cpuExplanation(posts, undefined, 2)).toContain(
      "at most 345 such requests/s; the run went faster (500/s) only because part of the work, the projector's, was done after it;",
    );
    const idle = cpuSplit(
      "w",
      { api: 0.1, projector: 0, redis: 0, postgres: 0, generator: 0, machine: 0.2 },
      10,
      1,
      2,
    );
    expect(cpuExplanation(idle, undefined, 2)).toContain("only 10% busy, so part of the limit is waiting");
  });
});

const point = (share: number, offered: number, p99: number): RatePoint => ({
  share,
  offered,
  achieved: offered,
  dropped: 0,
  latency: { p50: p99 / 4, p95: p99 / 2, p99, max: p99 * 1.2 },
  statuses: { "200": offered * 10 },
});

const thr = (name: string, rps: number, p99 = 20) => ({
  name,
  requests: rps * 10,
  seconds: 10,
  rps,
  latency: { p50: p99 / 3, p95: p99 / 1.5, p99, max: p99 * 2 },
  statuses: { "200": rps * 10 },
});

function results(over: Partial<BenchResults> = {}): BenchResults {
  const cachedCpu = cpuSplit(
    "cached GET /feed",
    { api: 8, projector: 0.2, redis: 1.6, postgres: 8, generator: 1, machine: 19 },
    8000,
    10,
    2,
  );
  return {
    startedAt: "2026-11-27T04:10:00.000Z",
    finishedAt: "2026-11-27T04:16:30.000Z",
    code: { commit: "531ec132fe42af4f6828715b5dc0f63b87c62b3b", dirty: ["db/projections.ts"] },
    processes: { api: "2026-11-27T04:11:05.000Z", projector: null },
    cores: 2,
    busyBefore: 0.04,
    scrapeMs: { api: 48, projector: 17 },
    seconds: 10,
    connections: 16,
    seed: { users: 1_000_000, activeUsers: 100_000, seed: 42 },
    config: { pullThreshold: 10_000, feedCacheItems: 300, fanoutBatchSize: 5000 },
    baselines: {
      hello: thr("hello", 50_000, 0.6),
      copyRowsPerS: 2_000_000,
      copyRows: 2_000_000,
      redis: [{ test: "GET bench:get", rps: 100_000, p50: 0.25, p99: 0.6 }],
    },
    cached: {
      readers: 300,
      max: thr("cached", 800, 35),
      sweep: [point(0.2, 160, 7), point(0.7, 560, 40), point(1, 800, 190)],
      at70: point(0.7, 560, 40),
      autocannon70: point(0.7, 560, 45),
    },
    cold: thr("cold", 150, 180),
    posts: thr("posts", 450, 70),
    likes: { ...thr("likes", 780, 38), newLikes: 7800 },
    mixed: { ...thr("mixed", 700, 45), reads: 6860, writes: 140, readOnlyRps: 800 },
    fanout: {
      posts: 60,
      followers: 250_000,
      rows: 25_000,
      wallSeconds: 20,
      rowsPerS: 1250,
      followersPerS: 12_500,
      drained: true,
    },
    lag: {
      authorFollowers: 250_374,
      sampled: 250,
      activeSampled: 250,
      lagsMs: Array.from({ length: 250 }, (_, i) => 100 + i * 2),
      lagsLowerMs: Array.from({ length: 250 }, (_, i) => i * 2),
      pollers: 8,
      closeUp: { lowerMs: 12, upperMs: 31 },
      missing: 0,
      deadlineS: 30,
      pollsPerFollowerPerS: 2,
      projectorLagMs: 20,
      background: { ...point(0.3, 240, 30), share: 0.3 },
    },
    redisMemory: {
      heads: 3000,
      usedBefore: 25 * 1024 ** 2,
      usedAfter: 25 * 1024 ** 2 + 3000 * 15_000,
      bytesPerHead: 15_000,
      headKeyBytes: 6400,
      extrapolatedBytes: 25 * 1024 ** 2 + 15_000 * 100_000,
    },
    cpu: [cachedCpu],
    ...over,
  };
}

describe("goals", () => {
  test("each goal as a ratio against its own baseline, met or missed, with the gap", () => {
    const goals = checkGoals(results());
    const by = Object.fromEntries(goals.map((g) => [g.id, g]));
    expect(goals.map((g) => g.id)).toEqual([
      "cached-rps",
      "cached-p99",
      "cold-rps",
      "posts-rps",
      "fanout",
      "lag",
      "mixed",
      "redis",
    ]);
    expect(by["cached-rps"]).toMatchObject({ ratio: 0.016, met: false });
    expect(by["cached-rps"]!.gap).toBe("needs 17 500 req/s: 21.9× the measured rate");
    expect(by["cached-p99"]).toMatchObject({ ratio: 1.6, met: false, gap: "15 ms over the budget (1.6×)" });
    expect(by["cold-rps"]).toMatchObject({ ratio: 0.003, met: false });
    expect(by["posts-rps"]).toMatchObject({ ratio: 0.009, met: false });
    expect(by.fanout).toMatchObject({ ratio: 0.0006, met: false });
    expect(by.lag).toMatchObject({ met: true, gap: null, measured: "594 ms", ratio: 0.1188 });
    expect(by.mixed).toMatchObject({ ratio: 0.875, met: true, measured: "700 req/s = 87.5% of 800" });
    expect(by.redis).toMatchObject({ met: true });
    expect(by.redis!.measured).toBe("1.42 GiB (14.6 KiB per head × 100 000)");
  });

  test("a tail over budget even at the lowest rate is called stalls, not queueing", () => {
    const r = results();
    r.cached.sweep = [point(0.2, 160, 45), ...r.cached.sweep.slice(1)];
    const md = formatBenchReport(r, checkGoals(r));
    expect(md).toContain("but already at 20% of it the p99 is 45 ms (p50 11.3 ms): the tail is not queueing");
    expect(md).toContain("The idle api took 48 ms to answer GET /metrics");
    r.scrapeMs.api = 4;
    expect(formatBenchReport(r, checkGoals(r))).toContain("Candidates: garbage collection");
  });

  test("a follower who never saw the post misses the lag goal whatever the others' p99", () => {
    const r = results();
    r.lag.missing = 3;
    r.lag.lagsMs = r.lag.lagsMs.slice(3);
    const lag = checkGoals(r).find((g) => g.id === "lag")!;
    expect(lag.met).toBe(false);
    expect(lag.measured).toBe("3 of 250 followers never saw it within 30 s");
    expect(lag.gap).toBe("3 followers missed the 30 s deadline");
  });

  test("met goals at the threshold; Redis over 6 GB says by how much; a zero rate says nothing was measured", () => {
    const r = results({
      cold: thr("cold", 7500),
      redisMemory: { ...results().redisMemory, extrapolatedBytes: 7 * 1024 ** 3 },
    });
    r.fanout.rowsPerS = 0;
    const by = Object.fromEntries(checkGoals(r).map((g) => [g.id, g]));
    expect(by["cold-rps"]).toMatchObject({ met: true, ratio: 0.15 });
    expect(by.redis).toMatchObject({ met: false, gap: "1 GiB over 6 GB" });
    expect(by.fanout!.gap).toBe("nothing was measured (0 rows/s); the goal is 500 000 rows/s");
  });
});

describe("the report", () => {
  test("names: the run's UTC date, charts beside the report", () => {
    expect(reportNames(new Date("2026-11-27T23:59:59Z"))).toEqual({
      date: "2026-11-27",
      md: "2026-11-27.md",
      latencyPng: "2026-11-27-feed-latency.png",
      lagPng: "2026-11-27-fanout-lag.png",
    });
  });

  test("number formatting: thin groups, few digits, units", () => {
    expect(fmtNum(52346.4)).toBe("52 346");
    expect(fmtNum(48.86)).toBe("48.9");
    expect(fmtNum(0.0147)).toBe("0.01");
    expect(fmtNum(Number.POSITIVE_INFINITY)).toBe("Infinity");
    expect(fmtBytes(15_021)).toBe("14.7 KiB");
    expect(fmtBytes(512)).toBe("512 B");
    expect(fmtBytes(1.42 * 1024 ** 3)).toBe("1.42 GiB");
    expect(fmtMs(0.28)).toBe("280 µs");
    expect(fmtMs(20.04)).toBe("20 ms");
  });

  test("goals, figures, sweep, fan-out, Redis, CPU and causes, with the charts linked", () => {
    const r = results();
    const md = formatBenchReport(r, checkGoals(r), "### Profile\n\nhand-written findings\n");
    expect(md).toStartWith("# Benchmark report, 2026-11-27\n");
    expect(md).toContain("took 6.5 min");
    expect(md).toContain(
      "commit 531ec132fe42 with uncommitted changes to db/projections.ts; the api process started 2026-11-27T04:11:05.000Z, the projector (unknown) (code changed after a process started is not what was measured).",
    );
    expect(md).toContain("| 0.875 of cached read-only just before (800 req/s) |");
    expect(md).toContain(
      "| cached GET /feed ≥ 35% of hello-world req/s | 800 req/s = 1.6% of 50 000 | 0.016 | **missed** | needs 17 500 req/s: 21.9× the measured rate |",
    );
    expect(md).toContain("3 of 8 goals met.");
    expect(md).toContain(
      "![p50, p95 and p99 of cached GET /feed against the offered rate](2026-11-27-feed-latency.png)",
    );
    expect(md).toContain("(2026-11-27-fanout-lag.png)");
    expect(md).toContain(
      "| 560 req/s | 70% | 560 req/s | 0 | 10 ms | 20 ms | 40 ms | 48 ms | 200: 5600 | — |",
    );
    expect(md).toContain("autocannon's `overallRate` at the same 560 req/s");
    expect(md).toContain("**1 250 rows/s**, 0.1% of raw COPY");
    expect(md).toContain("rows are 10% of followers");
    expect(md).toContain("p99 **594 ms**");
    expect(md).toContain("this is the **pull path**");
    expect(md).toContain("a round over every follower took 500 ms");
    expect(md).toContain("p50 248 ms, p99 494 ms (the lower bound, dashed in the chart)");
    expect(md).toContain("saw it between 12 ms and 31 ms after the POST was sent");
    expect(md).toContain("**14.6 KiB per reader**");
    expect(md).toContain(
      "| cached GET /feed | 8 000 | 1 ms | 25 µs | 200 µs | 1 ms | 125 µs | 25 µs | 2.38 ms | 95% |",
    );
    expect(md).toContain("- **cached GET /feed ≥ 35% of hello-world req/s**: needs 17 500 req/s");
    expect(md).toContain("2 cores fit at most 842 such requests/s");
    expect(md).toContain("### Profile\n\nhand-written findings");
    // The p99 at 20% (7 ms) is within budget: the tail is queueing behind the load.
    expect(md).toContain("the tail grows with the load");
    expect(md).toContain("going through 12 500 followers/s considered (rows go only to the active ones)");
    expect(md).not.toContain("undefined");
    expect(md).not.toContain("NaN");
  });

  test("outside share: the machine's busy CPU none of the stack's parts explains", () => {
    expect(
      outsideShare({ api: 1, projector: 0.5, redis: 0.2, postgres: 1, generator: 0.3, machine: 4 }),
    ).toBe(0.25);
    expect(outsideShare({ api: 1, projector: 0, redis: 0, postgres: 0, generator: 0, machine: 0.5 })).toBe(0);
    expect(outsideShare({ api: 0, projector: 0, redis: 0, postgres: 0, generator: 0, machine: 0 })).toBe(0);
  });

  test("a run where much of the CPU went outside the stack is flagged as measured on a shared machine", () => {
    const quiet = results();
    expect(contentionNote(quiet)[0]).toBe(
      "Before the first run the cores were 4% busy with nothing of the bench's running. No run shared the machine with much else (other ≤ 20% of its CPU).",
    );
    const busy = results({
      busyBefore: 0.3,
      cpu: [
        cpuSplit(
          "cold GET /feed",
          { api: 2, projector: 0, redis: 0.5, postgres: 6, generator: 0.5, machine: 18 },
          1000,
          10,
          2,
        ),
      ],
    });
    busy.cached.sweep = [{ ...point(0.7, 560, 40), outsideShare: 0.35 }];
    const note = contentionNote(busy)[0]!;
    expect(note).toContain("cached sweep 70% (35%)");
    expect(note).toContain("the cores were 30% busy");
    expect(note).toContain(
      "**Shared machine**: during cold GET /feed (50%), cached sweep 70% (35%) more than 20% of the CPU",
    );
    expect(formatBenchReport(busy, checkGoals(busy))).toContain("**Shared machine**");
  });

  test("every goal met: the causes section says so; no autocannon comparison when it was not run", () => {
    const r = results({
      cached: {
        ...results().cached,
        max: thr("c", 20_000),
        at70: point(0.7, 14_000, 20),
        autocannon70: null,
      },
      cold: thr("cold", 8000),
      posts: thr("posts", 6000),
      mixed: { ...thr("mixed", 19_000), reads: 1, writes: 1, readOnlyRps: 20_000 },
      fanout: { ...results().fanout, rowsPerS: 600_000 },
    });
    r.lag = { ...r.lag, lagsLowerMs: r.lag.lagsLowerMs.map(() => 0), closeUp: null };
    const md = formatBenchReport(r, checkGoals(r));
    expect(md).toContain("8 of 8 goals met.");
    expect(md).toContain("0 ms for every follower: each one's first poll already showed it.");
    expect(md).not.toContain("polled back to back");
    expect(md).toContain("None: every goal was met.");
    expect(md).not.toContain("overallRate` at the same");
  });
});
