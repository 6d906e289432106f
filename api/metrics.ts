import { Counter, Histogram, Registry } from "prom-client";
import { collectProcessMetrics } from "../core/process-metrics.ts";

// Metric names and labels are fixed by docs/architecture.md §7. Labels stay low-cardinality: the
// route is the template ("/posts/:id"), never the raw path.

export interface ApiMetrics {
  registry: Registry;
  httpDuration: Histogram<"method" | "route" | "status">;
  feedCache: Counter<"result">;
  eventsPublished: Counter<"type">;
  rateLimited: Counter<"policy">;
  rateLimitBypassed: Counter<"policy">;
  requestTimeouts: Counter<"phase">;
}

export function createApiMetrics(opts: { defaultMetrics?: boolean } = {}): ApiMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics) collectProcessMetrics(registry);
  return {
    registry,
    httpDuration: new Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP request duration by method, route template and status",
      labelNames: ["method", "route", "status"],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    feedCache: new Counter({
      name: "feed_cache_requests_total",
      help: "Feed head cache lookups by result",
      labelNames: ["result"],
      registers: [registry],
    }),
    eventsPublished: new Counter({
      name: "events_published_total",
      help: "Events XADDed to the streams by type",
      labelNames: ["type"],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: "rate_limited_total",
      help: "Requests refused with 429 by rate-limit policy",
      labelNames: ["policy"],
      registers: [registry],
    }),
    rateLimitBypassed: new Counter({
      name: "rate_limit_bypassed_total",
      help: "Requests let through unlimited because Redis was unreachable (fail open), by policy",
      labelNames: ["policy"],
      registers: [registry],
    }),
    requestTimeouts: new Counter({
      name: "http_request_timeouts_total",
      help: "Requests answered by the deadline (REQUEST_TIMEOUT_MS): phase body = 408, handler = 503",
      labelNames: ["phase"],
      registers: [registry],
    }),
  };
}

/**
 * /metrics on a port of its own (METRICS_PORT), never beside the API: whoever reaches the API
 * through a gateway cannot reach this, and a network policy can open it to Prometheus alone.
 * Anything but GET /metrics is a 404.
 */
export function serveMetrics(registry: Registry, port: number, hostname: string) {
  return Bun.serve({
    port,
    hostname,
    async fetch(request) {
      if (new URL(request.url).pathname !== "/metrics" || request.method !== "GET")
        return new Response("not found\n", { status: 404 });
      return new Response(await registry.metrics(), { headers: { "content-type": registry.contentType } });
    },
  });
}
