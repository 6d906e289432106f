import { collectDefaultMetrics, type Registry } from "prom-client";

// prom-client's default process metrics, less the three heap-space gauges: they call
// v8.getHeapSpaceStatistics(), which under Bun walks the heap and made each /metrics scrape take
// 30–50 ms of the event loop — a stall every scrape interval that set the api's p99
// (perf/bench-causes.md). Without them a scrape takes 1–2 ms.
const SLOW = [
  "nodejs_heap_space_size_total_bytes",
  "nodejs_heap_space_size_used_bytes",
  "nodejs_heap_space_size_available_bytes",
];

export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of SLOW) registry.removeSingleMetric(name);
}
