// What the bench reads of the stack while it runs: CPU time per process (the api's and
// projector's metrics, Redis INFO, /proc), the projectors' backlog, and how busy the machine is.
import { readFile } from "node:fs/promises";
import { fanoutJobCount } from "../../db/projections.ts";
import {
  type CpuUsed,
  cpuSplit,
  parseProcStat,
  parseRedisInfo,
  type Throughput,
  ticksBetween,
} from "../bench-report.ts";
import { waitDrained } from "../lib/drain.ts";
import { CLK_TCK, postgresTicks } from "../lib/proc.ts";
import { parsePromText, snapshotOf, sumOf } from "../load-report.ts";
import { type Bench, BenchError, CORES, elapsedS, log, QUIET_BUSY } from "./settings.ts";

export async function metricsText(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`);
  if (!res.ok) throw new BenchError(`${url}/metrics answered ${res.status}`);
  return res.text();
}

export async function redisInfo(b: Bench, section: string): Promise<Map<string, string>> {
  return parseRedisInfo(String(await b.redis.info(section)));
}

export interface CpuSnapshot {
  api: number;
  projector: number;
  redis: number;
  postgres: Map<number, number>;
  generator: number;
  machine: number;
}

export async function cpuSnapshot(b: Bench): Promise<CpuSnapshot> {
  const [apiText, projText, info, pg, stat] = await Promise.all([
    metricsText(b.s.apiMetricsUrl),
    metricsText(b.s.projectorUrl),
    redisInfo(b, "cpu"),
    postgresTicks(),
    readFile("/proc/stat", "utf8"),
  ]);
  const usage = process.cpuUsage();
  return {
    api: sumOf(parsePromText(apiText), "process_cpu_seconds_total"),
    projector: sumOf(parsePromText(projText), "process_cpu_seconds_total"),
    redis: Number(info.get("used_cpu_sys") ?? 0) + Number(info.get("used_cpu_user") ?? 0),
    postgres: pg,
    generator: (usage.user + usage.system) / 1e6,
    machine: parseProcStat(stat).busy / CLK_TCK,
  };
}

export function cpuUsed(a: CpuSnapshot, b: CpuSnapshot): CpuUsed {
  return {
    api: b.api - a.api,
    projector: b.projector - a.projector,
    redis: b.redis - a.redis,
    postgres: ticksBetween(a.postgres, b.postgres) / CLK_TCK,
    generator: b.generator - a.generator,
    machine: b.machine - a.machine,
  };
}

/**
 * Runs a closed loop and records where the machine's CPU went during it. It starts once the
 * projector has caught up, so no earlier run's events are charged to this one; with `drain`
 * (writes) the window stays open until the projector has handled this run's events, so each
 * write is charged its asynchronous work too.
 */
export async function measured(
  b: Bench,
  scenario: string,
  run: () => Promise<Throughput & { latenciesMs: number[] }>,
  opts: { drain?: boolean } = {},
): Promise<Throughput & { latenciesMs: number[] }> {
  if (!(await backlogDrained(b))) log(`warning: the backlog did not drain before ${scenario}`);
  const before = await cpuSnapshot(b);
  const r = await run();
  const mid = await cpuSnapshot(b);
  if (opts.drain && !(await backlogDrained(b))) log(`warning: the backlog did not drain after ${scenario}`);
  const after = opts.drain ? await cpuSnapshot(b) : mid;
  const busy = mid.machine - before.machine;
  b.cpu.push(cpuSplit(scenario, cpuUsed(before, after), r.requests, r.seconds, CORES, busy));
  return r;
}

export async function projectorSamples(b: Bench) {
  return parsePromText(await metricsText(b.s.projectorUrl));
}

/**
 * Waits (up to 120 s) until every consumer group has caught up and the fan-out lane has no job.
 * The backlog gauges are cached for a second by the projector, so two readings 1.1 s apart must
 * both be 0.
 */
export async function backlogDrained(b: Bench): Promise<boolean> {
  const read = async () => ({
    backlog: snapshotOf("", await metricsText(b.s.projectorUrl)).backlogTotal,
    fanoutJobs: await fanoutJobCount(b.sql),
  });
  const r = await waitDrained(read, {
    timeoutMs: 120_000,
    intervalMs: 300,
    confirmations: 2,
    confirmMs: 1100,
  });
  return r.drained;
}

/**
 * Busy share of all cores over `seconds`. Another user's tests make every figure pessimistic, so
 * the bench waits (up to BENCH_WAIT_QUIET seconds) for the machine to be mostly idle first, and
 * the report says how busy it was.
 */
async function machineBusy(seconds: number): Promise<number> {
  const a = parseProcStat(await readFile("/proc/stat", "utf8"));
  await Bun.sleep(seconds * 1000);
  const z = parseProcStat(await readFile("/proc/stat", "utf8"));
  return (z.busy - a.busy) / Math.max(z.total - a.total, 1);
}

export async function waitQuiet(b: Bench): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const busy = await machineBusy(3);
    if (busy <= QUIET_BUSY || elapsedS(t0) >= b.s.waitQuietS) {
      if (busy > QUIET_BUSY)
        log(`warning: the machine is still ${(busy * 100).toFixed(0)}% busy; measuring anyway`);
      return busy;
    }
    log(`the machine is ${(busy * 100).toFixed(0)}% busy with other work; waiting for it to quieten`);
  }
}
