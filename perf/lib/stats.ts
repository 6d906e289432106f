// Latency figures every perf tool reports the same way: nearest-rank percentiles of the response
// times, rounded for display.

export interface Latency {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Nearest-rank percentile of ascending values (0 for none). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** p50/p95/p99/max of response times in ms (nearest rank), rounded to `digits`. */
export function summarize(latenciesMs: ArrayLike<number>, digits = 2): Latency {
  const sorted = Float64Array.from(latenciesMs).sort();
  return {
    p50: round(percentile(sorted, 50), digits),
    p95: round(percentile(sorted, 95), digits),
    p99: round(percentile(sorted, 99), digits),
    max: round(sorted.length ? sorted[sorted.length - 1]! : 0, digits),
  };
}

/** Requests answered with a status other than 2xx, or not answered at all. */
export function failedCount(statuses: Record<string, number>): number {
  return Object.entries(statuses)
    .filter(([s]) => !/^2\d\d$/.test(s))
    .reduce((n, [, c]) => n + c, 0);
}
