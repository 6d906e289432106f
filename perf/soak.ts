// ./dev soak [--minutes N] [--rate R] [--report]
// Mixed open-model load for N minutes on a stack of its own (perf/chaos/stack.ts), sampling
// every 10 s: RSS of the api, the projector and Redis, PostgreSQL's private memory and client
// connections, Redis memory and keys, the consumer groups' pending entries (PEL) and backlog,
// and the load's rate, errors and p99. At the end: does each plateau (the last half of the run,
// after a warm-up, against the half before it), and does reconcile find nothing lost or
// doubled. --report writes perf/reports/<date>-soak.md with a chart.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import sharp from "sharp";
import { countClientConnections } from "../db/client.ts";
import { lineChartSvg } from "./bench-charts.ts";
import { bootStack, type ChaosStack, reconcileStack, waitDrained } from "./chaos/stack.ts";
import { backlogOf } from "./lib/drain.ts";
import { commitOf } from "./lib/git.ts";
import { percentile } from "./lib/stats.ts";

const PORTS = { pg: 55463, redis: 7302, api: 3302, projector: 9302 };
const SAMPLE_MS = 10_000;
const TOKEN_REFRESH_MS = 10 * 60_000;
// Each user's likes stay at or under this many (perf/chaos/load.ts likesPerUser), so the data the
// caches hold reaches a steady size and memory that still climbs is a leak. Without the bound the
// 2026-12-02 run's likes grew by ~10 a second all hour and Redis used_memory with them (+25%).
// The bound is reached about when a 60-minute run's 12-minute warm-up ends (40 users × 100 likes
// at a net ~5 likes/s: ~13 minutes), and is under Redis's set-max-intset-entries (512).
const LIKES_PER_USER = 100;

export interface Sample {
  /** Seconds since the load started. */
  t: number;
  apiMiB: number;
  projectorMiB: number;
  redisRssMiB: number;
  postgresMiB: number;
  pgConnections: number;
  redisUsedMiB: number;
  redisKeys: number;
  pel: number;
  backlog: number;
  rps: number;
  errors: number;
  p99ms: number;
  /** Once a minute: Redis memory by kind of key. */
  kinds?: Record<string, KeyKind>;
}

function usage(message: string): never {
  console.error(`${message}\nusage: ./dev soak [--minutes N] [--rate R] [--report]`);
  process.exit(2);
}

const MiB = 1024 * 1024;

/** A /proc status field in bytes (VmRSS, RssAnon…), 0 when the process is gone. */
function procField(pid: number | undefined, field: string): number {
  if (!pid) return 0;
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** PostgreSQL's private memory: RssAnon of the postmaster and every process it started. */
function postgresPrivate(dataDir: string): number {
  let postmaster: number;
  try {
    postmaster = Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
  } catch {
    return 0;
  }
  let total = procField(postmaster, "RssAnon");
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === postmaster) total += procField(Number(d), "RssAnon");
    } catch {}
  }
  return total;
}

async function sample(c: ChaosStack, t: number, sinceMs: number, withKinds: boolean): Promise<Sample> {
  const info = String(await c.redis.info("memory"));
  const used = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
  const b = await backlogOf(c.redis, c.sql, c.config.STREAM_PARTITIONS);
  const stats = c.load.resetStats();
  const lat = c.load.takeLatencies();
  const fivexx = Object.entries(stats.byStatus).reduce((s, [k, v]) => s + (Number(k) >= 500 ? v : 0), 0);
  return {
    t,
    apiMiB: procField(c.sv.pid("api"), "VmRSS") / MiB,
    projectorMiB: procField(c.sv.pid("projector"), "VmRSS") / MiB,
    redisRssMiB: procField(c.stack.get(`redis-${c.redisPort}`)?.proc.pid, "VmRSS") / MiB,
    postgresMiB: postgresPrivate(c.pg.data) / MiB,
    pgConnections: await countClientConnections(c.sql),
    redisUsedMiB: used / MiB,
    redisKeys: await c.redis.dbsize(),
    pel: b.pending,
    backlog: b.undelivered + b.fanoutJobs,
    rps: stats.sent / (sinceMs / 1000),
    errors: fivexx + stats.hung + stats.refused,
    p99ms: percentile(Float64Array.from(lat).sort(), 99),
    ...(withKinds ? { kinds: await memoryByKind(c.redis) } : {}),
  };
}

/** Redis memory of one kind of key: its keys, their bytes (MEMORY USAGE), largest set's size. */
export interface KeyKind {
  keys: number;
  bytes: number;
  maxMembers: number;
}

/** A key's kind: the key with its hash-tagged id (or, untagged, everything after two parts) cut. */
export function kindOf(key: string): string {
  const tag = key.indexOf("{");
  if (tag >= 0) return `${key.slice(0, tag)}{…}`;
  const parts = key.split(":");
  return parts.length > 2 ? `${parts.slice(0, 2).join(":")}:…` : key;
}

/**
 * Where Redis's memory goes, by kind of key: a SCAN of the whole keyspace with MEMORY USAGE of
 * each key, once a minute (the soak's keyspace is ~10 000 keys, a few milliseconds of Redis time).
 * It tells a leak (a kind whose keys or bytes climb) from a cache filling up with data.
 */
export async function memoryByKind(redis: ChaosStack["redis"]): Promise<Record<string, KeyKind>> {
  const out: Record<string, KeyKind> = {};
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "COUNT", 1000);
    cursor = next;
    if (batch.length === 0) continue;
    const pipe = redis.pipeline();
    for (const k of batch) {
      pipe.memory("USAGE", k);
      pipe.type(k);
    }
    const replies = (await pipe.exec()) ?? [];
    const sizes = redis.pipeline();
    const sets: string[] = [];
    batch.forEach((k, i) => {
      const kind = kindOf(k);
      const e = out[kind] ?? { keys: 0, bytes: 0, maxMembers: 0 };
      out[kind] = e;
      e.keys++;
      e.bytes += Number(replies[2 * i]?.[1] ?? 0);
      const type = replies[2 * i + 1]?.[1];
      if (type === "set" || type === "zset") {
        sets.push(k);
        if (type === "set") sizes.scard(k);
        else sizes.zcard(k);
      }
    });
    const counts = sets.length ? ((await sizes.exec()) ?? []) : [];
    sets.forEach((k, i) => {
      const e = out[kindOf(k)]!;
      e.maxMembers = Math.max(e.maxMembers, Number(counts[i]?.[1] ?? 0));
    });
  } while (cursor !== "0");
  return out;
}

/** The sampled numbers (every field of a Sample but its breakdown). */
type Metric = Exclude<keyof Sample, "kinds">;

export interface Verdict {
  metric: string;
  firstHalf: number;
  secondHalf: number;
  rule: string;
  ok: boolean;
}

/**
 * Plateau checks over the samples after the warm-up (the first fifth): the peak of the last half
 * against the peak of the half before it. Memory may grow at most 20%; connections by at most
 * 2; the PEL and the backlog may not climb past 1.5× their earlier peak (with a floor, since a
 * quiet earlier half has a peak near zero).
 */
export function plateauVerdicts(samples: readonly Sample[]): Verdict[] {
  const settled = samples.slice(Math.floor(samples.length / 5));
  const mid = Math.floor(settled.length / 2);
  const a = settled.slice(0, mid);
  const b = settled.slice(mid);
  const peak = (xs: readonly Sample[], k: Metric) => Math.max(0, ...xs.map((s) => s[k]));
  const out: Verdict[] = [];
  const compare = (k: Metric, label: string, rule: string, ok: (x: number, y: number) => boolean) => {
    const [x, y] = [peak(a, k), peak(b, k)];
    out.push({ metric: label, firstHalf: x, secondHalf: y, rule, ok: ok(x, y) });
  };
  const ratio = (k: Metric, label: string, max: number) =>
    compare(k, label, `≤ ${max}× the earlier peak`, (x, y) => y <= x * max);
  ratio("apiMiB", "api RSS (MiB)", 1.2);
  ratio("projectorMiB", "projector RSS (MiB)", 1.2);
  ratio("redisRssMiB", "Redis RSS (MiB)", 1.2);
  ratio("postgresMiB", "PostgreSQL private memory (MiB)", 1.2);
  ratio("redisUsedMiB", "Redis used_memory (MiB)", 1.2);
  compare("pgConnections", "PostgreSQL client connections", "≤ the earlier peak + 2", (x, y) => y <= x + 2);
  for (const [k, label, floor] of [
    ["pel", "pending entries (PEL)", 100],
    ["backlog", "backlog (undelivered + fan-out jobs)", 100],
  ] as const)
    compare(k, label, `≤ max(1.5× the earlier peak, ${floor})`, (x, y) => y <= Math.max(1.5 * x, floor));
  return out;
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));

function reportOf(
  o: { minutes: number; rate: number; commit: string },
  samples: Sample[],
  verdicts: Verdict[],
  end: string,
  ok: boolean,
): string {
  const rows = samples
    .filter((_s, i) => i % 6 === 5 || i === samples.length - 1)
    .map(
      (s) =>
        `| ${(s.t / 60).toFixed(1)} | ${fmt(s.apiMiB)} | ${fmt(s.projectorMiB)} | ${fmt(s.redisRssMiB)} | ${fmt(s.postgresMiB)} | ${s.pgConnections} | ${fmt(s.redisUsedMiB)} | ${s.redisKeys} | ${s.pel} | ${s.backlog} | ${fmt(s.rps)} | ${s.errors} | ${fmt(s.p99ms)} |`,
    );
  return `# Soak run, ${new Date().toISOString().slice(0, 10)}

\`./dev soak --minutes ${o.minutes} --rate ${o.rate} --report\` (code: ${o.commit}): ${o.rate} requests/s of open-model load (feed reads 55%,
posts 15%, likes 10%, unlikes 5%, follows 9%, unfollows 6%) from 40 users for ${o.minutes} minutes on a stack
of its own (PostgreSQL, Redis with appendonly and noeviction, one api, one projector on loopback),
sampled every 10 s. Cache TTLs are 300 s here (CACHE_TTL_SECONDS), so the caches reach their
steady size inside the run; with the default 3 600 s they plateau an hour in. The machine's two
cores are shared with whatever else ran meanwhile. Each user keeps at most ${LIKES_PER_USER} likes (a like at
the bound unlikes the user's oldest instead; an unlike takes one of the user's own), so the liked
sets and like counts the caches hold stop growing once the bound is reached, and memory that
still climbs after that is a leak rather than data. Posts keep coming (15% of requests), but
Redis holds them only for the TTL, in feeds capped at FEED_MAX_ITEMS.

**${ok ? "Every metric plateaued" : "Not every metric plateaued"}; ${end}.**

![RSS and Redis memory over the run](${new Date().toISOString().slice(0, 10)}-soak.png)

## Plateau checks

The first fifth of the run is warm-up; the peak of the last half is compared with the peak of the
half before it.

| metric | peak, earlier half | peak, last half | rule | verdict |
| --- | ---: | ---: | --- | --- |
${verdicts.map((v) => `| ${v.metric} | ${fmt(v.firstHalf)} | ${fmt(v.secondHalf)} | ${v.rule} | ${v.ok ? "plateau" : "**grows**"} |`).join("\n")}

## Redis memory by kind of key

SCAN with MEMORY USAGE of every key, once a minute; shown at four points of the run. "largest"
is the most members in one set or sorted set of that kind.

${kindsTable(samples)}

## Samples (one a minute)

RSS from /proc (VmRSS); PostgreSQL's is the private memory (RssAnon) of the postmaster and its
backends, since their shared buffers would be counted once per process. Requests/s, errors (5xx,
no answer, refused) and p99 are of the 10 s before the sample.

| minute | api MiB | projector MiB | Redis RSS MiB | PostgreSQL MiB | PG connections | Redis used MiB | Redis keys | PEL | backlog | req/s | errors | p99 ms |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join("\n")}
`;
}

export function kindsTable(samples: Sample[]): string {
  const withKinds = samples.filter((s) => s.kinds);
  if (withKinds.length === 0) return "(no breakdown was sampled: the run was under a minute)";
  const picks = [
    ...new Set([0.25, 0.5, 0.75, 1].map((q) => Math.max(0, Math.ceil(q * withKinds.length) - 1))),
  ].map((i) => withKinds[i]!);
  const kinds = [...new Set(picks.flatMap((s) => Object.keys(s.kinds!)))].sort(
    (a, b) => (picks.at(-1)!.kinds![b]?.bytes ?? 0) - (picks.at(-1)!.kinds![a]?.bytes ?? 0),
  );
  const head = `| key kind | ${picks.map((s) => `minute ${(s.t / 60).toFixed(0)}: keys, KiB, largest`).join(" | ")} |`;
  const rule = `| --- | ${picks.map(() => "---:").join(" | ")} |`;
  const rows = kinds.map((k) => {
    const cells = picks.map((s) => {
      const e = s.kinds![k];
      return e ? `${e.keys}, ${(e.bytes / 1024).toFixed(0)}, ${e.maxMembers || "–"}` : "–";
    });
    return `| \`${k}\` | ${cells.join(" | ")} |`;
  });
  return [head, rule, ...rows].join("\n");
}

function chartOf(samples: Sample[]): string {
  const series = (label: string, color: string, k: Metric) => ({
    label,
    color,
    points: samples.map((s) => [s.t / 60, s[k]] as [number, number]),
  });
  return lineChartSvg({
    title: "Soak: memory over the run",
    note: "RSS of each process, PostgreSQL private memory, Redis used_memory (MiB)",
    xLabel: "minutes",
    yLabel: "MiB",
    series: [
      series("api RSS", "#1f77b4", "apiMiB"),
      series("projector RSS", "#ff7f0e", "projectorMiB"),
      series("Redis RSS", "#2ca02c", "redisRssMiB"),
      series("Redis used", "#98df8a", "redisUsedMiB"),
      series("PostgreSQL", "#9467bd", "postgresMiB"),
    ],
  });
}

if (import.meta.main) {
  let values: { minutes?: string; rate?: string; report?: boolean };
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: { minutes: { type: "string" }, rate: { type: "string" }, report: { type: "boolean" } },
    }));
  } catch (e) {
    usage((e as Error).message);
  }
  const minutes = Number(values.minutes ?? 10);
  if (!(minutes > 0 && minutes <= 24 * 60))
    usage(`--minutes must be a number of minutes (0–1440], got "${values.minutes}"`);
  const rate = Number(values.rate ?? 100);
  if (!Number.isInteger(rate) || rate < 1 || rate > 1000)
    usage(`--rate must be 1–1000 requests/s, got "${values.rate}"`);

  const dir = join(tmpdir(), `feed-soak-${process.pid}`);
  const commit = commitOf();
  const c = await bootStack({
    dir,
    rate,
    seed: 11,
    ports: PORTS,
    env: { CACHE_TTL_SECONDS: "300" },
    likesPerUser: LIKES_PER_USER,
    log: console.log,
  });
  let ok = false;
  try {
    const samples: Sample[] = [];
    const t0 = Date.now();
    const end = t0 + minutes * 60_000;
    let lastSample = t0;
    let lastRefresh = t0;
    c.load.resetStats();
    c.load.takeLatencies();
    c.load.start();
    while (Date.now() < end) {
      await Bun.sleep(Math.max(0, Math.min(lastSample + SAMPLE_MS, end) - Date.now()));
      const now = Date.now();
      if (now - lastRefresh >= TOKEN_REFRESH_MS) {
        await c.refreshTokens();
        lastRefresh = now;
      }
      const s = await sample(c, (now - t0) / 1000, now - lastSample, samples.length % 6 === 5);
      lastSample = now;
      samples.push(s);
      console.log(
        `soak ${(s.t / 60).toFixed(1)} min: api ${fmt(s.apiMiB)} MiB, projector ${fmt(s.projectorMiB)} MiB, redis ${fmt(s.redisRssMiB)}/${fmt(s.redisUsedMiB)} MiB, pg ${fmt(s.postgresMiB)} MiB ${s.pgConnections} conns, PEL ${s.pel}, backlog ${s.backlog}, ${fmt(s.rps)} req/s, ${s.errors} errors, p99 ${fmt(s.p99ms)} ms`,
      );
    }
    await c.load.stop();
    const unresolved = await c.load.settleWrites(30_000);
    await waitDrained(c, 120_000);
    const rec = await reconcileStack(c);
    const dlq = rec.dlq;
    const verdicts = plateauVerdicts(samples);
    const clean =
      rec.lost + rec.duplicated + rec.stale_counts + rec.unpublished + dlq + rec.stale_liked + unresolved ===
      0;
    ok = verdicts.every((v) => v.ok) && clean;
    const totalRequests = samples.reduce((s, x) => s + x.rps * (SAMPLE_MS / 1000), 0);
    const endLine = `then reconcile: lost=${rec.lost} duplicated=${rec.duplicated} stale_counts=${rec.stale_counts} unpublished=${rec.unpublished} dlq=${dlq} stale_liked=${rec.stale_liked}, ${unresolved} writes unresolved; ~${Math.round(totalRequests)} requests, ${samples.reduce((s, x) => s + x.errors, 0)} errors`;
    for (const v of verdicts)
      console.log(
        `${v.ok ? "plateau" : "GROWS  "} ${v.metric}: ${fmt(v.firstHalf)} → ${fmt(v.secondHalf)} (${v.rule})`,
      );
    console.log(`soak: ${minutes} min at ${rate} req/s, ${ok ? "ok" : "FAILED"}; ${endLine}`);
    if (values.report) {
      const reports = join(import.meta.dir, "reports");
      mkdirSync(reports, { recursive: true });
      const date = new Date().toISOString().slice(0, 10);
      writeFileSync(
        join(reports, `${date}-soak.md`),
        reportOf({ minutes, rate, commit }, samples, verdicts, endLine, ok),
      );
      await sharp(Buffer.from(chartOf(samples)))
        .png()
        .toFile(join(reports, `${date}-soak.png`));
      console.log(`report: ${join(reports, `${date}-soak.md`)}`);
    }
  } finally {
    await c.close();
    if (!ok && existsSync(dir)) console.log(`logs: ${dir}`);
  }
  process.exit(ok ? 0 : 1);
}
