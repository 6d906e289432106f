// The benchmark's settings (BENCH_* environment variables, perf/README.md "Settings"), parsed in
// one schema, its fixed constants, and what every step of the run shares (`Bench`).
import { join } from "node:path";
import { z } from "zod";
import type { Config } from "../../core/config.ts";
import type { RedisClient } from "../../core/redis.ts";
import type { Sql } from "../../db/client.ts";
import type { CpuSplit } from "../bench-report.ts";

/** An error the bench explains in one line (no stack trace). */
export class BenchError extends Error {}

export const log = (msg: string) => console.log(`bench: ${msg}`);
export const elapsedS = (t0: number) => (performance.now() - t0) / 1000;

const int = (def: number, min: number) => z.coerce.number().int().min(min).default(def);

const schema = z.object({
  /** The api, its metrics server and the projector's metrics (default: the config's ports on 127.0.0.1). */
  BENCH_BASE_URL: z.string().optional(),
  BENCH_API_METRICS_URL: z.string().optional(),
  BENCH_PROJECTOR_URL: z.string().optional(),
  /** Length of each closed-loop run and of each step of the sweep. */
  BENCH_SECONDS: int(10, 1),
  BENCH_CONNECTIONS: int(16, 1),
  BENCH_CACHED_READERS: int(300, 10),
  BENCH_COLD_READERS: int(3000, 10),
  /** Enough posts for seconds of fan-out (sustained), not a burst that startup latency dominates. */
  BENCH_FANOUT_POSTS: int(600, 1),
  BENCH_LAG_SAMPLE: int(250, 1),
  BENCH_LAG_POLLERS: int(8, 1),
  BENCH_LAG_DEADLINE: int(30, 5),
  /** Seconds to wait, at most, for the machine to be quiet before the first run. */
  BENCH_WAIT_QUIET: int(120, 0),
  /** Where the report and its charts go; point short development runs elsewhere. */
  BENCH_REPORT_DIR: z.string().min(1).optional(),
});

export interface BenchSettings {
  baseUrl: string;
  apiMetricsUrl: string;
  projectorUrl: string;
  seconds: number;
  connections: number;
  cachedReaders: number;
  coldReaders: number;
  fanoutPosts: number;
  lagSample: number;
  lagPollers: number;
  lagDeadlineS: number;
  waitQuietS: number;
  reportDir: string;
}

const LOOPBACK = /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/;

/** The settings from the environment; throws a BenchError naming every bad variable, or a target off loopback. */
export function parseBenchSettings(env: Record<string, string | undefined>, config: Config): BenchSettings {
  const result = schema.safeParse(env);
  if (!result.success)
    throw new BenchError(
      `invalid settings: ${result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  const e = result.data;
  const s: BenchSettings = {
    baseUrl: e.BENCH_BASE_URL ?? `http://127.0.0.1:${config.PORT}`,
    // The api serves /metrics on a port of its own (METRICS_PORT), not beside the API.
    apiMetricsUrl: e.BENCH_API_METRICS_URL ?? `http://127.0.0.1:${config.METRICS_PORT}`,
    projectorUrl: e.BENCH_PROJECTOR_URL ?? `http://127.0.0.1:${config.PROJECTOR_METRICS_PORT}`,
    seconds: e.BENCH_SECONDS,
    connections: e.BENCH_CONNECTIONS,
    cachedReaders: e.BENCH_CACHED_READERS,
    coldReaders: e.BENCH_COLD_READERS,
    fanoutPosts: e.BENCH_FANOUT_POSTS,
    lagSample: e.BENCH_LAG_SAMPLE,
    lagPollers: e.BENCH_LAG_POLLERS,
    lagDeadlineS: e.BENCH_LAG_DEADLINE,
    waitQuietS: e.BENCH_WAIT_QUIET,
    reportDir: e.BENCH_REPORT_DIR ?? join(import.meta.dir, "../reports"),
  };
  const redisHost = `http://${new URL(config.REDIS_URL).host}`;
  for (const url of [s.baseUrl, s.projectorUrl, s.apiMetricsUrl, redisHost])
    if (!LOOPBACK.test(url)) throw new BenchError(`bench targets loopback only, not ${url}`);
  return s;
}

/** The cached-read load beside the lag's pollers (who read warm heads too), as a share of the maximum. */
export const LAG_LOAD_SHARE = 0.3;
/** Busy share of the cores (the stack idle) under which the machine counts as quiet. */
export const QUIET_BUSY = 0.25;
export const RESULTS_DIR = join(import.meta.dir, "../results");
/** Shares of the closed-loop maximum offered in the latency sweep; 0.7 is the goal's point. */
export const SWEEP = [0.2, 0.4, 0.6, 0.7, 0.8, 1.0];
/** Requests waiting at once in the pacer; past this the service has fallen far behind. */
export const MAX_IN_FLIGHT = 256;
/** The redis-benchmark database: not 0 (the stack) nor 1 (the tests). */
export const BENCH_DB = 3;
export const CORES = navigator.hardwareConcurrency;

/** What every step of a run shares: settings, connections, and the CPU split of each measured run. */
export interface Bench {
  s: BenchSettings;
  config: Config;
  sql: Sql;
  redis: RedisClient;
  cpu: CpuSplit[];
}
