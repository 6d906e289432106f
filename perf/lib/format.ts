// Numbers, sizes, durations and tables as the perf reports print them (Markdown).

import { round } from "./stats.ts";

export const pct = (x: number) => `${round(x * 100, 1)}%`;

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

/** Response counts by status, e.g. "200: 10, 503: 1" ("none" for none). */
export const statusText = (s: Record<string, number>) =>
  Object.entries(s)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ") || "none";

/** A Markdown table; `align` per column, "r" for numbers. */
export function table(head: string[], rows: (string | number)[][], align: ("l" | "r")[]): string {
  const sep = align.map((a) => (a === "r" ? "---:" : "---"));
  return [head, sep, ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
}
