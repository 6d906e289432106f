import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { collectProcessMetrics } from "../core/process-metrics.ts";
import { type RedisClient, type RedisCommand, runCommands } from "../core/redis.ts";
import { keys } from "../core/redis-keys.ts";
import { GROUPS } from "../core/streams.ts";

// Projector metrics, names fixed by docs/architecture.md §7. Backlog gauges are read from Redis
// on scrape (XINFO GROUPS per partition stream, XLEN of the DLQ): a handful of O(1) calls.

export interface ProjectorMetrics {
  registry: Registry;
  events: Counter<"group" | "type" | "outcome">;
  lag: Histogram<"group" | "type">;
  fanoutRows: Counter;
  fanoutDuration: Histogram;
  eventsPublished: Counter<"type">;
}

export function createProjectorMetrics(
  opts: { redis?: RedisClient; streams?: string[]; defaultMetrics?: boolean } = {},
): ProjectorMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics) collectProcessMetrics(registry);
  const { redis, streams = [] } = opts;
  // One XINFO pass serves every gauge of a scrape, and scrapes within a second share it:
  // /metrics stays cheap however often it is polled.
  let cached: { at: number; value: Promise<Map<string, { pending: number; lag: number }>> } | null = null;
  const backlog = (): Promise<Map<string, { pending: number; lag: number }>> => {
    if (cached && Date.now() - cached.at < 1000) return cached.value;
    cached = { at: Date.now(), value: readBacklog() };
    return cached.value;
  };
  const readBacklog = async (): Promise<Map<string, { pending: number; lag: number }>> => {
    const out = new Map<string, { pending: number; lag: number }>();
    if (!redis) return out;
    // Each stream's groups, and its newest entry: Redis computes a group's `lag` from counters
    // that go wrong after a restart from the AOF or a trim (a group that has read everything was
    // reported 10 000 behind, and ./dev bench waited on it), so a group whose last delivered id
    // is the stream's newest has no lag, whatever Redis says.
    const replies = await runCommands(
      redis,
      streams.flatMap((s): RedisCommand[] => [
        ["xinfo", "GROUPS", s],
        ["xrevrange", s, "+", "-", "COUNT", 1],
      ]),
    );
    for (let i = 0; i < replies.length; i += 2) {
      const [err, groups] = replies[i]!;
      if (err || !Array.isArray(groups)) continue;
      const newest = replies[i + 1]?.[1] as [string, unknown][] | undefined;
      const newestId = newest?.[0]?.[0];
      for (const g of groups as unknown[][]) {
        const f: Record<string, unknown> = {};
        for (let j = 0; j + 1 < g.length; j += 2) f[String(g[j])] = g[j + 1];
        const name = String(f.name);
        const cur = out.get(name) ?? { pending: 0, lag: 0 };
        cur.pending += Number(f.pending ?? 0);
        const caughtUp = newestId === undefined || !streamIdBefore(String(f["last-delivered-id"]), newestId);
        cur.lag += caughtUp ? 0 : Number(f.lag ?? 0);
        out.set(name, cur);
      }
    }
    return out;
  };
  new Gauge({
    name: "stream_pending_entries",
    help: "Entries delivered to a consumer group and not yet acknowledged",
    labelNames: ["group"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [g, b] of await backlog().catch(() => new Map())) this.set({ group: g }, b.pending);
    },
  });
  new Gauge({
    name: "stream_lag_entries",
    help: "Entries in the streams not yet delivered to a consumer group",
    labelNames: ["group"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [g, b] of await backlog().catch(() => new Map())) this.set({ group: g }, b.lag);
    },
  });
  new Gauge({
    name: "dlq_entries",
    help: "Entries in the dead-letter stream",
    registers: [registry],
    async collect() {
      if (redis) this.set(await redis.xlen(keys.dlq).catch(() => 0));
    },
  });
  return {
    registry,
    events: new Counter({
      name: "projector_events_total",
      help: "Events handled by group, type and outcome (ok, retry, dead)",
      labelNames: ["group", "type", "outcome"],
      registers: [registry],
    }),
    lag: new Histogram({
      name: "projector_event_lag_seconds",
      help: "From an event's occurred_at to its handler's commit",
      labelNames: ["group", "type"],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers: [registry],
    }),
    fanoutRows: new Counter({
      name: "fanout_rows_total",
      help: "user_feed rows written by push fan-out",
      registers: [registry],
    }),
    fanoutDuration: new Histogram({
      name: "fanout_duration_seconds",
      help: "Duration of one post's fan-out",
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    eventsPublished: new Counter({
      name: "events_published_total",
      help: "Events XADDed by the outbox sweeper by type",
      labelNames: ["type"],
      registers: [registry],
    }),
  };
}

export { GROUPS };

/** Whether stream id a ("ms-seq") comes before b. */
export function streamIdBefore(a: string, b: string): boolean {
  const [am = 0n, as = 0n] = a.split("-").map((x) => BigInt(x || 0));
  const [bm = 0n, bs = 0n] = b.split("-").map((x) => BigInt(x || 0));
  return am < bm || (am === bm && as < bs);
}
