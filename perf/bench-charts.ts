// The benchmark's charts (perf/bench.ts): standalone SVG documents, rendered to PNG with sharp
// beside the report. Pure, so they are unit-tested.
import type { RatePoint } from "./bench-report.ts";
import { fmtMs, fmtNum } from "./lib/format.ts";
import { round, summarize } from "./lib/stats.ts";

/** About `count` round tick values from 0 to at least max (1, 2 or 5 times a power of ten). */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 0.999; v += step) ticks.push(round(v, 6));
  return ticks;
}

/**
 * 1-2-5 ticks for a logarithmic axis: from the largest such value ≤ min to the smallest ≥ max
 * (at least two, so the axis has a span).
 */
export function logTicks(min: number, max: number): number[] {
  const lo = Math.max(min, 1e-6);
  const all: number[] = [];
  for (let d = 10 ** Math.floor(Math.log10(lo)); all.length < 200; d *= 10)
    for (const m of [1, 2, 5]) all.push(round(d * m, 9));
  const first = Math.max(
    0,
    all.findLastIndex((v) => v <= lo),
  );
  let last = all.findIndex((v) => v >= max);
  if (last <= first) last = first + 1;
  return all.slice(first, last + 1);
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

interface Series {
  label: string;
  color: string;
  points: [number, number][];
  dash?: string;
  step?: boolean;
}

interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Horizontal reference lines (a budget); the y range always reaches them. */
  hLines?: { y: number; label: string }[];
  /** Vertical reference lines, drawn only when inside the x range. */
  vLines?: { x: number; label: string }[];
  xFormat?: (v: number) => string;
  yFormat?: (v: number) => string;
  /** A logarithmic y axis: latencies span milliseconds to hundreds of them. */
  yLog?: boolean;
  /** A note under the title. */
  note?: string;
}

const W = 800;
const H = 460;
const M = { left: 70, right: 150, top: 58, bottom: 56 };

/** A line chart as a standalone SVG document (text in DejaVu Sans, which librsvg finds here). */
export function lineChartSvg(spec: ChartSpec): string {
  const xs = spec.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = spec.series.flatMap((s) => s.points.map((p) => p[1]));
  const xTicks = niceTicks(Math.max(...xs, 1));
  // A budget line stays in view (it is what the reader compares against); a vertical line does
  // not widen the x range, so a far-off goal cannot squash the data into one corner.
  const yHigh = Math.max(...ys, ...(spec.hLines ?? []).map((h) => h.y), spec.yLog ? 0 : 1);
  const yTicks = spec.yLog
    ? logTicks(Math.min(...ys.filter((y) => y > 0), ...(spec.hLines ?? []).map((h) => h.y)), yHigh)
    : niceTicks(yHigh);
  const xMax = xTicks[xTicks.length - 1]!;
  const yMin = spec.yLog ? yTicks[0]! : 0;
  const yMax = yTicks[yTicks.length - 1]!;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const X = (v: number) => round(M.left + (v / xMax) * pw, 1);
  const yPos = (v: number) =>
    spec.yLog
      ? (Math.log10(Math.max(v, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))
      : v / yMax;
  const Y = (v: number) => round(M.top + ph - yPos(v) * ph, 1);
  const fx = spec.xFormat ?? ((v: number) => fmtNum(v));
  const fy = spec.yFormat ?? ((v: number) => fmtNum(v));
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${M.left}" y="26" font-size="17" font-weight="bold" fill="#222">${esc(spec.title)}</text>`,
  ];
  if (spec.note) parts.push(`<text x="${M.left}" y="45" font-size="12" fill="#555">${esc(spec.note)}</text>`);
  for (const t of yTicks)
    parts.push(
      `<line x1="${M.left}" x2="${M.left + pw}" y1="${Y(t)}" y2="${Y(t)}" stroke="#e4e4e4"/>`,
      `<text x="${M.left - 8}" y="${Y(t) + 4}" font-size="12" text-anchor="end" fill="#444">${esc(fy(t))}</text>`,
    );
  for (const t of xTicks)
    parts.push(
      `<line x1="${X(t)}" x2="${X(t)}" y1="${M.top + ph}" y2="${M.top + ph + 5}" stroke="#444"/>`,
      `<text x="${X(t)}" y="${M.top + ph + 20}" font-size="12" text-anchor="middle" fill="#444">${esc(fx(t))}</text>`,
    );
  parts.push(
    `<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`,
    `<text x="${M.left + pw / 2}" y="${H - 14}" font-size="13" text-anchor="middle" fill="#222">${esc(spec.xLabel)}</text>`,
    `<text transform="translate(18 ${M.top + ph / 2}) rotate(-90)" font-size="13" text-anchor="middle" fill="#222">${esc(spec.yLabel)}</text>`,
  );
  for (const h of spec.hLines ?? []) {
    if (h.y > yMax) continue;
    parts.push(
      `<line x1="${M.left}" x2="${M.left + pw}" y1="${Y(h.y)}" y2="${Y(h.y)}" stroke="#c0392b" stroke-dasharray="6 4"/>`,
      `<text x="${M.left + pw - 4}" y="${Y(h.y) - 5}" font-size="12" text-anchor="end" fill="#c0392b">${esc(h.label)}</text>`,
    );
  }
  (spec.vLines ?? []).forEach((v, i) => {
    if (v.x > xMax) return;
    parts.push(
      `<line x1="${X(v.x)}" x2="${X(v.x)}" y1="${M.top}" y2="${M.top + ph}" stroke="#7f8c8d" stroke-dasharray="3 3"/>`,
      `<text x="${X(v.x) + 4}" y="${M.top + 14 + i * 16}" font-size="12" fill="#555">${esc(v.label)}</text>`,
    );
  });
  spec.series.forEach((s, i) => {
    let pts = s.points;
    if (s.step)
      pts = pts.flatMap((p, j) => (j === 0 ? [p] : [[p[0], pts[j - 1]![1]] as [number, number], p]));
    const d = pts.map((p) => `${X(p[0])},${Y(p[1])}`).join(" ");
    parts.push(
      `<polyline points="${d}" fill="none" stroke="${s.color}" stroke-width="2.2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/>`,
    );
    if (!s.step)
      for (const p of s.points)
        parts.push(`<circle cx="${X(p[0])}" cy="${Y(p[1])}" r="3.5" fill="${s.color}"/>`);
    const ly = M.top + 14 + i * 22;
    parts.push(
      `<line x1="${W - M.right + 14}" x2="${W - M.right + 38}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2.5"/>`,
      `<text x="${W - M.right + 44}" y="${ly}" font-size="13" fill="#222">${esc(s.label)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n");
}

/** p50/p95/p99 of cached GET /feed against the offered rate of each sweep step. */
export function latencyChartSvg(sweep: RatePoint[], budgetMs: number, date: string): string {
  const pts = (k: "p50" | "p95" | "p99") => sweep.map((s) => [s.offered, s.latency[k]] as [number, number]);
  const at70 = sweep.find((s) => Math.abs(s.share - 0.7) < 1e-9);
  return lineChartSvg({
    title: "Cached GET /feed: latency against offered load",
    note: `${date}; paced open-loop steps as shares of the closed-loop maximum`,
    xLabel: "offered rate (req/s)",
    yLabel: "latency (ms, logarithmic)",
    yLog: true,
    series: [
      { label: "p50", color: "#2e86c1", points: pts("p50") },
      { label: "p95", color: "#e67e22", points: pts("p95") },
      { label: "p99", color: "#c0392b", points: pts("p99") },
    ],
    hLines: [{ y: budgetMs, label: `p99 budget ${budgetMs} ms` }],
    vLines: at70 ? [{ x: at70.offered, label: "70% of max" }] : [],
  });
}

/** The share of sampled followers whose feed shows the post, against ms since the POST. */
export function lagChartSvg(
  lagsMs: number[],
  lowerMs: number[],
  sampled: number,
  goalMs: number,
  date: string,
): string {
  const cdf = (values: number[]): [number, number][] => {
    const sorted = [...values].sort((a, b) => a - b);
    return [[0, 0], ...sorted.map((v, i) => [v, ((i + 1) / Math.max(sampled, 1)) * 100] as [number, number])];
  };
  const s = summarize(lagsMs);
  return lineChartSvg({
    title: "Fan-out lag of a post by a ≥ 100 000-follower author",
    note: `${date}; ${lagsMs.length} of ${sampled} sampled followers saw it; p50 ${fmtMs(s.p50)}, p99 ${fmtMs(s.p99)}, max ${fmtMs(s.max)}; goal p99 ≤ ${fmtNum(goalMs / 1000)} s`,
    xLabel: "time since the POST (ms)",
    yLabel: "followers whose feed shows it (%)",
    series: [
      { label: "seen by", color: "#2e86c1", points: cdf(lagsMs), step: true },
      { label: "not before", color: "#95a5a6", points: cdf(lowerMs), step: true, dash: "5 4" },
    ],
    vLines: [
      { x: s.p99, label: "p99" },
      { x: goalMs, label: `goal ${fmtNum(goalMs / 1000)} s` },
    ],
  });
}
