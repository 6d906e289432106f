import { describe, expect, test } from "bun:test";
import { lagChartSvg, latencyChartSvg, logTicks, niceTicks } from "./bench-charts.ts";
import type { RatePoint } from "./bench-report.ts";

// The benchmark's charts: round ticks, and SVG documents with every series, reference line and
// label they promise, escaped and free of NaN.

const point = (share: number, offered: number, p99: number): RatePoint => ({
  share,
  offered,
  achieved: offered,
  dropped: 0,
  latency: { p50: p99 / 4, p95: p99 / 2, p99, max: p99 * 1.2 },
  statuses: { "200": offered * 10 },
});

describe("charts", () => {
  test("nice ticks: 1, 2 or 5 times a power of ten, reaching the maximum", () => {
    expect(niceTicks(771)).toEqual([0, 200, 400, 600, 800]);
    expect(niceTicks(100)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0.9)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0)).toEqual([0, 1]);
  });

  test("log ticks: 1-2-5 from at or below the minimum to at or above the maximum", () => {
    expect(logTicks(2.5, 600)).toEqual([2, 5, 10, 20, 50, 100, 200, 500, 1000]);
    expect(logTicks(0.3, 25)).toEqual([0.2, 0.5, 1, 2, 5, 10, 20, 50]);
    expect(logTicks(1, 1)).toEqual([1, 2]);
  });

  test("latency chart: three series over the offered rates, the budget line and the 70% mark", () => {
    const svg = latencyChartSvg(
      [point(0.2, 160, 7), point(0.7, 560, 40), point(1, 800, 190)],
      25,
      "2026-11-27",
    );
    expect(svg).toStartWith("<svg xmlns=");
    expect(svg.match(/<polyline /g)).toHaveLength(3);
    expect(svg.match(/<circle /g)).toHaveLength(9);
    for (const s of ["p50", "p95", "p99", "p99 budget 25 ms", "70% of max", "latency (ms, logarithmic)"])
      expect(svg).toContain(`>${s}<`);
    expect(svg).not.toContain("NaN");
  });

  test("lag chart: step lines of followers who saw it and the lower bound; text is escaped", () => {
    const svg = lagChartSvg([300, 100, 200], [50, 0, 150], 4, 5000, "2026-11-27 <x>");
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg).toContain("3 of 4 sampled followers saw it");
    expect(svg).toContain("2026-11-27 &lt;x&gt;");
    // A goal far right of the data is not drawn (it would squash the data), but named in the note.
    expect(svg).not.toContain(">goal 5 s<");
    expect(svg).toContain("goal p99 ≤ 5 s");
    expect(svg).toContain(">p99<");
    expect(svg).not.toContain("NaN");
  });
});
