// The benchmark's run from start to end (`bun perf/bench.ts`): settings, connections, each step
// in order, then the report, its charts and the raw figures.
import { mkdir } from "node:fs/promises";
import sharp from "sharp";
import { loadConfig } from "../../core/config.ts";
import { createRedis } from "../../core/redis.ts";
import { createSql } from "../../db/client.ts";
import { lagChartSvg, latencyChartSvg } from "../bench-charts.ts";
import { type BenchResults, checkGoals, GOALS } from "../bench-report.ts";
import { codeVersion } from "../lib/git.ts";
import { failedCount } from "../lib/stats.ts";
import { parsePromText, sumOf } from "../load-report.ts";
import { copyBaseline, helloWorld, redisBenchmarks } from "./baselines.ts";
import { metricsText, waitQuiet } from "./cpu.ts";
import { fanOut, fanOutLag } from "./fanout.ts";
import { cachedReads, coldReads, loadSeed, type Run, writes } from "./feed.ts";
import { formatBenchReport, reportNames } from "./report.ts";
import { type Bench, BenchError, CORES, log, parseBenchSettings, RESULTS_DIR } from "./settings.ts";

/**
 * How long GET /metrics takes on the idle api and projector (median of three): a process answers
 * nothing else while it builds the page, so a slow one stalls every read at each scrape.
 */
async function scrapeTimes(b: Bench): Promise<BenchResults["scrapeMs"]> {
  const time = async (url: string) => {
    const ms: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await metricsText(url);
      ms.push(performance.now() - t0);
    }
    return ms.sort((a, b) => a - b)[1]!;
  };
  return { api: await time(b.s.apiMetricsUrl), projector: await time(b.s.projectorUrl) };
}

/** When the api and the projector started: code edited after that is not what ran. */
async function processStarts(b: Bench): Promise<BenchResults["processes"]> {
  const started = async (url: string) => {
    const v = sumOf(parsePromText(await metricsText(url)), "process_start_time_seconds");
    return v > 0 ? new Date(v * 1000).toISOString() : null;
  };
  return { api: await started(b.s.apiMetricsUrl), projector: await started(b.s.projectorUrl) };
}

async function writeReport(b: Bench, results: BenchResults): Promise<void> {
  const goals = checkGoals(results);
  // Hand-written profile findings, kept beside the bench and appended to every report.
  const notes = await Bun.file(`${import.meta.dir}/../bench-causes.md`)
    .text()
    .catch(() => "");
  const names = reportNames(new Date(results.startedAt));
  await mkdir(b.s.reportDir, { recursive: true });
  await mkdir(RESULTS_DIR, { recursive: true });
  await Bun.write(`${b.s.reportDir}/${names.md}`, formatBenchReport(results, goals, notes));
  const png = (svg: string, file: string) => sharp(Buffer.from(svg)).png().toFile(`${b.s.reportDir}/${file}`);
  await png(latencyChartSvg(results.cached.sweep, GOALS.cachedP99Ms, names.date), names.latencyPng);
  const { lag } = results;
  await png(lagChartSvg(lag.lagsMs, lag.lagsLowerMs, lag.sampled, GOALS.lagP99Ms, names.date), names.lagPng);
  const raw = `${RESULTS_DIR}/bench-${names.date}-${Date.parse(results.startedAt)}.json`;
  await Bun.write(raw, `${JSON.stringify({ results, goals }, null, 2)}\n`);

  console.log(`\n${"goal".padEnd(80)} verdict  measured`);
  for (const g of goals) console.log(`${g.goal.padEnd(80)} ${g.met ? "met   " : "MISSED"}   ${g.measured}`);
  const rel = (p: string) => p.replace(`${process.cwd()}/`, "");
  log(`report: ${rel(`${b.s.reportDir}/${names.md}`)} (charts beside it); raw figures: ${rel(raw)}`);
}

/** One run of the benchmark over `b`'s connections; the exit code (1 when a run's requests failed). */
async function measureAll(b: Bench): Promise<number> {
  const busyBefore = await waitQuiet(b);
  const startedAt = new Date();
  const seed = await loadSeed(b);
  const activeTotal = Math.round(seed.params.users * seed.params.activeShare);
  log(
    `seed of ${seed.params.users} users (seed ${seed.params.seed}); ${b.s.seconds} s per run, ${b.s.connections} connections`,
  );
  const scrapeMs = await scrapeTimes(b);
  const hello = await helloWorld(b);
  const copy = await copyBaseline(b);
  const redisBench = await redisBenchmarks(b);
  const cached = await cachedReads(b, seed);
  const cold = await coldReads(b, seed, activeTotal);
  const w = await writes(b, seed, cached.build);
  const fanout = await fanOut(b, seed);
  const lag = await fanOutLag(b, seed, cached.pacedRequest, cached.max.rps);

  await writeReport(b, {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    code: codeVersion(),
    processes: await processStarts(b),
    cores: CORES,
    busyBefore,
    scrapeMs,
    seconds: b.s.seconds,
    connections: b.s.connections,
    seed: { users: seed.params.users, activeUsers: activeTotal, seed: seed.params.seed },
    config: {
      pullThreshold: b.config.FANOUT_PULL_THRESHOLD,
      feedCacheItems: b.config.FEED_CACHE_ITEMS,
      fanoutBatchSize: b.config.FANOUT_BATCH_SIZE,
    },
    baselines: { hello: strip(hello), copyRowsPerS: copy.rowsPerS, copyRows: copy.rows, redis: redisBench },
    cached: {
      readers: cached.pool.length,
      max: strip(cached.max),
      sweep: cached.sweep,
      at70: cached.at70,
      autocannon70: cached.autocannon70,
    },
    cold: strip(cold.run),
    posts: strip(w.postsRun),
    likes: { ...strip(w.likesRun), newLikes: w.likesRun.statuses["201"] ?? 0 },
    mixed: { ...strip(w.mixed), ...w.mixedCount },
    fanout,
    lag,
    redisMemory: cold.memory,
    cpu: b.cpu,
  });

  // A run with many failed requests measured errors, not the service: say so by the exit code.
  const runs: Run[] = [hello, cached.max, cold.run, w.postsRun, w.likesRun, w.mixed];
  const bad = runs.filter((r) => failedCount(r.statuses) > 0.01 * Math.max(r.requests, 1));
  for (const r of bad)
    console.error(`bench: ${r.name}: over 1% of requests failed (${JSON.stringify(r.statuses)})`);
  return bad.length ? 1 : 0;
}

function strip<T extends { latenciesMs: number[] }>(r: T): Omit<T, "latenciesMs"> {
  const { latenciesMs: _, ...rest } = r;
  return rest;
}

/** `bun perf/bench.ts`: parses the settings, opens the connections, runs, and closes them. */
export async function runBench(env: Record<string, string | undefined> = process.env): Promise<number> {
  let b: Bench | undefined;
  try {
    const config = loadConfig();
    const s = parseBenchSettings(env, config);
    b = {
      s,
      config,
      sql: createSql({ url: config.DATABASE_URL, max: 4 }),
      redis: createRedis(config, "feed-bench"),
      cpu: [],
    };
    return await measureAll(b);
  } catch (e) {
    console.error(`bench: ${e instanceof BenchError ? e.message : (e as Error).stack}`);
    return 1;
  } finally {
    await b?.sql.end({ timeout: 5 });
    b?.redis.disconnect();
  }
}
