import { describe, expect, test } from "bun:test";
import { Registry } from "prom-client";
import { collectProcessMetrics } from "./process-metrics.ts";

describe("process metrics", () => {
  test("the defaults without the heap-space gauges", async () => {
    const registry = new Registry();
    collectProcessMetrics(registry);
    const text = await registry.metrics();
    expect(text).toContain("process_cpu_user_seconds_total");
    expect(text).toContain("nodejs_eventloop_lag_seconds");
    expect(text).not.toContain("nodejs_heap_space_size");
  });
});
