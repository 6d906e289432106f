// Scale-out on one box (`./dev cluster`): a 3-master Redis Cluster on loopback with two
// api and two projector processes, the correctness scenario over HTTP across both apis, then a
// short closed-loop throughput comparison against one api + one projector on one standalone
// Redis. Everything it starts is its own child, on its own ports, and is stopped at the end.
// PostgreSQL is an existing database of its own (--database-url, default feed_cluster).
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { parseConfig } from "../core/config.ts";
import { createRedis, type RedisClient } from "../core/redis.ts";
import { createSql, type Sql } from "../db/client.ts";
import { migrate } from "../db/migrate.ts";
import { drainProjectors, runScenario } from "./cluster/scenario.ts";
import { portInUse, redisCli, Stack, waitFor } from "./cluster/stack.ts";
import { round, summarize } from "./lib/stats.ts";
import { parsePromText, requestKind, sumOf } from "./load-report.ts";

const USAGE = `usage: bun perf/cluster.ts [options]   (./dev cluster [options])

  --database-url URL   PostgreSQL database to use (default: DATABASE_URL's server, database
                       feed_cluster); it must exist; it is migrated and seeded if needed
  --users N            seeded users (perf/seed.ts --users N --if-absent; default 2000)
  --duration S         measured seconds of load per setup (default 15)
  --warmup S           unmeasured seconds before each (default 5)
  --connections N      closed-loop connections in total, split over the apis (default 16)
  --rounds N           measured runs of each setup, alternating which goes first (default 1)
  --skip-load          the correctness scenario only

Ports (loopback): Redis Cluster 7001-7003, standalone Redis 7020, apis 3101/3102, projector
metrics 9111/9112. Writes perf/results/cluster-<time>.json; exits 1 when a check fails.`;

const CLUSTER_PORTS = [7001, 7002, 7003];
const SINGLE_REDIS_PORT = 7020;
const API_PORTS = [3101, 3102];
const PROJECTOR_PORTS = [9111, 9112];
const LOAD_SECRET = "cluster-run-load-test-secret-0123456789abcdef";
const JWT_SECRET = "cluster-run-jwt-secret-0123456789abcdef-xyz";

const { values } = parseArgs({
  options: {
    "database-url": { type: "string" },
    users: { type: "string", default: "2000" },
    duration: { type: "string", default: "15" },
    warmup: { type: "string", default: "5" },
    connections: { type: "string", default: "16" },
    rounds: { type: "string", default: "1" },
    "skip-load": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const num = (name: string, v: string | undefined, min: number) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    console.error(`cluster: --${name} must be an integer ≥ ${min}\n\n${USAGE}`);
    process.exit(2);
  }
  return n;
};
const seedUsers = num("users", values.users, 100);
const durationS = num("duration", values.duration, 1);
const warmupS = num("warmup", values.warmup, 0);
const connections = num("connections", values.connections, 2);
const rounds = num("rounds", values.rounds, 1);

const base = parseConfig(process.env);
const dbUrl = new URL(values["database-url"] ?? base.DATABASE_URL);
if (!values["database-url"]) dbUrl.pathname = "/feed_cluster";
const dbName = dbUrl.pathname.slice(1);
// The development and test databases belong to ./dev's stack and its suites: this run adds
// users, posts and likes, and the suites empty theirs.
const nameOf = (url: string) => new URL(url).pathname.slice(1);
if ([nameOf(base.DATABASE_URL), nameOf(base.TEST_DATABASE_URL)].includes(dbName)) {
  console.error(`cluster: refusing to use ${dbName}, the development or test database; give it its own`);
  process.exit(2);
}
const databaseUrl = dbUrl.toString();

const stack = new Stack(join(tmpdir(), `feed-cluster-run-${process.pid}`));
const say = (m: string) => console.log(`==> ${m}`);
const clusterNodes = CLUSTER_PORTS.map((p) => `127.0.0.1:${p}`).join(",");

/** The services' environment; `redis` is either REDIS_URL or REDIS_CLUSTER_NODES. */
function serviceEnv(redis: Record<string, string>, extra: Record<string, string> = {}) {
  return {
    NODE_ENV: "development",
    LOG_LEVEL: "warn",
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_SIZE: "10",
    JWT_SECRET,
    LOAD_TEST_SECRET: LOAD_SECRET,
    PUBLIC_URL: `http://127.0.0.1:${API_PORTS[0]}`,
    // The apis' own metrics ports: any free one each (the run reads the projectors').
    METRICS_PORT: "0",
    // S3 and SSO are not part of this run.
    S3_ENDPOINT: "",
    OIDC_ISSUER: "",
    ...redis,
    ...extra,
  };
}

async function startServices(
  apis: number,
  projectors: number,
  env: Record<string, string>,
): Promise<string[]> {
  const names: string[] = [];
  await Promise.all([
    ...API_PORTS.slice(0, apis).map((port, i) => {
      names.push(`api-${i + 1}`);
      return stack.startService(
        `api-${i + 1}`,
        "api/main.ts",
        { ...env, PORT: String(port) },
        `http://127.0.0.1:${port}/ready`,
      );
    }),
    ...PROJECTOR_PORTS.slice(0, projectors).map((port, i) => {
      names.push(`projector-${i + 1}`);
      return stack.startService(
        `projector-${i + 1}`,
        "projector/main.ts",
        { ...env, PROJECTOR_METRICS_PORT: String(port) },
        `http://127.0.0.1:${port}/ready`,
      );
    }),
  ]);
  return names;
}

interface Token {
  user_id: string;
  token: string;
}

async function signerTokens(api: string, count: number): Promise<Token[]> {
  const res = await fetch(`${api}/loadtest/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-load-test-secret": LOAD_SECRET },
    body: JSON.stringify({ count }),
  });
  if (!res.ok) throw new Error(`POST /loadtest/tokens answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { tokens: Token[] }).tokens;
}

/** Posts to like: the newest posts of the first seeded users. */
async function likeTargets(api: string, tokens: Token[]): Promise<string[]> {
  const ids: string[] = [];
  for (const t of tokens.slice(0, 40)) {
    const res = await fetch(`${api}/users/${t.user_id}/posts?limit=5`, {
      headers: { authorization: `Bearer ${t.token}` },
    });
    if (res.ok) ids.push(...((await res.json()) as { items: { id: string }[] }).items.map((p) => p.id));
  }
  if (ids.length === 0) throw new Error("the seeded users have no posts to like");
  return ids;
}

interface LoadResult {
  setup: string;
  apis: number;
  projectors: number;
  connections: number;
  duration_s: number;
  requests: number;
  rps: number;
  non_2xx: number;
  no_response: number;
  latency_ms: { p50: number; p95: number; p99: number; max: number };
  events_handled: number;
  drain_s_after: number;
  /** CPU seconds per process during the measured window (the load generator is this process). */
  cpu_s: Record<string, number>;
  /**
   * CPU milliseconds per request, apis and Redis servers summed: steadier than req/s on a
   * shared box, since time spent waiting for a core is not counted.
   */
  cpu_ms_per_request: { api: number; redis: number; projector: number };
}

/** Closed-loop mixed 50:1 load over the apis for `seconds`; latencies from every response. */
async function load(apis: string[], tokens: Token[], posts: string[], seconds: number, conns: number) {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let sent = 0;
  let noResponse = 0;
  const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
  const runs = apis.map(
    (url) =>
      new Promise<autocannon.Result>((resolve, reject) => {
        const instance = autocannon(
          {
            url,
            connections: Math.max(1, Math.round(conns / apis.length)),
            duration: seconds,
            requests: [
              {
                setupRequest: (req: autocannon.Request) => {
                  const headers = { authorization: `Bearer ${pick(tokens).token}` };
                  const kind = requestKind("mixed", sent++);
                  if (kind === "feed")
                    return { ...req, method: "GET", path: "/feed?limit=20", headers, body: undefined };
                  if (kind === "post")
                    return {
                      ...req,
                      method: "POST",
                      path: "/posts",
                      headers: {
                        ...headers,
                        "content-type": "application/json",
                        "idempotency-key": crypto.randomUUID(),
                      },
                      body: JSON.stringify({ text: `cluster run ${sent}` }),
                    };
                  return {
                    ...req,
                    method: "POST",
                    path: "/likes",
                    headers: { ...headers, "content-type": "application/json" },
                    body: JSON.stringify({ post_id: pick(posts) }),
                  };
                },
              },
            ],
          },
          (err, r) => (err ? reject(err) : resolve(r)),
        );
        instance.on("response", (_c, status: number, _b: number, ms: number) => {
          latencies.push(ms);
          statuses[status] = (statuses[status] ?? 0) + 1;
        });
      }),
  );
  const results = await Promise.all(runs);
  for (const r of results) noResponse += r.errors + r.timeouts;
  const requests = latencies.length;
  const non2xx = Object.entries(statuses)
    .filter(([s]) => !s.startsWith("2"))
    .reduce((n, [, c]) => n + c, 0);
  return {
    requests,
    rps: round(requests / seconds, 1),
    non_2xx: non2xx,
    no_response: noResponse,
    latency_ms: summarize(latencies, 1),
  };
}

function perRequest(cpu: Record<string, number>, prefix: string, requests: number): number {
  const s = Object.entries(cpu).reduce((n, [k, v]) => (k.startsWith(prefix) ? n + v : n), 0);
  return requests ? Math.round((s * 1000 * 100) / requests) / 100 : 0;
}

async function handledEvents(ports: number[]): Promise<number> {
  let n = 0;
  for (const port of ports) {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    n += sumOf(parsePromText(text), "projector_events_total", { outcome: "ok" });
  }
  return n;
}

async function measure(
  setup: string,
  apiCount: number,
  projectorCount: number,
  sql: Sql,
  redis: RedisClient,
): Promise<LoadResult> {
  const apis = API_PORTS.slice(0, apiCount).map((p) => `http://127.0.0.1:${p}`);
  const projectors = PROJECTOR_PORTS.slice(0, projectorCount);
  // A projector started on an empty Redis finds the groups' positions recorded in PostgreSQL by an
  // earlier setup and republishes the outbox since then (the lost-group path): let it finish.
  await drainProjectors(redis, sql, base.STREAM_PARTITIONS, 120_000);
  const tokens = await signerTokens(apis[0]!, 200);
  const posts = await likeTargets(apis[0]!, tokens);
  if (warmupS > 0) {
    say(`${setup}: warm-up ${warmupS} s`);
    await load(apis, tokens, posts, warmupS, connections);
    await drainProjectors(redis, sql, base.STREAM_PARTITIONS, 120_000);
  }
  say(`${setup}: ${durationS} s of mixed 50:1 load, ${connections} connections over ${apis.length} api(s)`);
  const before = await handledEvents(projectors);
  const cpuBefore = stack.cpuSeconds();
  const ownBefore = process.cpuUsage();
  const r = await load(apis, tokens, posts, durationS, connections);
  const cpuAfter = stack.cpuSeconds();
  const own = process.cpuUsage(ownBefore);
  const cpu: Record<string, number> = { "load generator": (own.user + own.system) / 1e6 };
  for (const [name, s] of cpuAfter) cpu[name] = s - (cpuBefore.get(name) ?? s);
  for (const k of Object.keys(cpu)) cpu[k] = Math.round(cpu[k]! * 10) / 10;
  const loadEnd = Date.now();
  await drainProjectors(redis, sql, base.STREAM_PARTITIONS, 120_000);
  const drained = (Date.now() - loadEnd) / 1000;
  return {
    setup,
    apis: apiCount,
    projectors: projectorCount,
    connections,
    duration_s: durationS,
    ...r,
    events_handled: (await handledEvents(projectors)) - before,
    drain_s_after: Math.round(drained * 10) / 10,
    cpu_s: cpu,
    cpu_ms_per_request: {
      api: perRequest(cpu, "api-", r.requests),
      redis: perRequest(cpu, "redis-", r.requests),
      projector: perRequest(cpu, "projector-", r.requests),
    },
  };
}

async function main(): Promise<number> {
  const busy: number[] = [];
  for (const p of [...CLUSTER_PORTS, SINGLE_REDIS_PORT, ...API_PORTS, ...PROJECTOR_PORTS])
    if (await portInUse(p)) busy.push(p);
  if (busy.length) throw new Error(`ports in use on 127.0.0.1: ${busy.join(", ")} (another run?)`);

  const sql = createSql({ url: databaseUrl, max: 4 });
  try {
    await sql`SELECT 1`;
  } catch (e) {
    throw new Error(
      `cannot reach ${dbName} (${(e as Error).message}); create it first: CREATE DATABASE ${dbName} OWNER feed`,
    );
  }
  say(`database ${dbName}: migrate, seed ${seedUsers} users if absent`);
  await migrate(sql);
  const seed = Bun.spawnSync(["bun", "perf/seed.ts", "--users", String(seedUsers), "--if-absent"], {
    cwd: join(import.meta.dir, ".."),
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdout: "pipe",
    stderr: "pipe",
  });
  if (seed.exitCode !== 0) throw new Error(`seeding failed: ${seed.stderr}`);

  say(`Redis Cluster of 3 masters on ${clusterNodes}`);
  stack.startRedis(CLUSTER_PORTS, { cluster: true });
  await stack.createCluster(CLUSTER_PORTS);
  const cluster = createRedis(parseConfig({ REDIS_CLUSTER_NODES: clusterNodes }), "feed-cluster-run");
  const clusterEnv = { REDIS_CLUSTER_NODES: clusterNodes };

  // Correctness first, with small fan-out thresholds so every fan-out path is taken.
  say("2 apis + 2 projectors (fan-out thresholds lowered for the scenario)");
  const scenarioThresholds = { FANOUT_INLINE_MAX: "8", FANOUT_PULL_THRESHOLD: "20" };
  let names = await startServices(2, 2, serviceEnv(clusterEnv, scenarioThresholds));
  const scenarioConfig = parseConfig({ ...serviceEnv(clusterEnv), JWT_SECRET });
  const scenario = await runScenario({
    apiA: `http://127.0.0.1:${API_PORTS[0]}`,
    apiB: `http://127.0.0.1:${API_PORTS[1]}`,
    projectors: PROJECTOR_PORTS.map((p) => `http://127.0.0.1:${p}`),
    sql,
    redis: cluster,
    config: scenarioConfig,
    users: 60,
    log: (m) => say(`scenario ${m}`),
  });
  console.log(`\ncorrectness (writes through :${API_PORTS[0]}, reads through :${API_PORTS[1]}):`);
  for (const c of scenario.checks) console.log(`  ${c.ok ? "ok  " : "FAIL"} ${c.name}\n       ${c.detail}`);
  console.log(`  ${JSON.stringify(scenario.counts)} in ${(scenario.elapsedMs / 1000).toFixed(1)} s\n`);

  const results: LoadResult[] = [];
  await stack.stop(names);
  if (!values["skip-load"]) {
    say(`standalone Redis on 127.0.0.1:${SINGLE_REDIS_PORT} for the comparison`);
    stack.startRedis([SINGLE_REDIS_PORT], { cluster: false });
    await waitFor(() => redisCli(SINGLE_REDIS_PORT, "ping") === "PONG", 10_000, "the standalone Redis");
    const singleUrl = `redis://127.0.0.1:${SINGLE_REDIS_PORT}/0`;
    const single = createRedis({ REDIS_URL: singleUrl }, "feed-cluster-run-single");
    const setups = {
      cluster: async (round: number) => {
        names = await startServices(2, 2, serviceEnv(clusterEnv));
        results.push(
          await measure(`cluster #${round}: 2 api + 2 projector, 3-master Cluster`, 2, 2, sql, cluster),
        );
        await stack.stop(names);
      },
      single: async (round: number) => {
        names = await startServices(1, 1, serviceEnv({ REDIS_URL: singleUrl }));
        results.push(await measure(`single #${round}: 1 api + 1 projector, one Redis`, 1, 1, sql, single));
        await stack.stop(names);
      },
    };
    // Rounds alternate the order (cluster, single, single, cluster, …) so neither setup always
    // runs on the warmer database.
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 === 1 ? (["cluster", "single"] as const) : (["single", "cluster"] as const);
      for (const s of order) await setups[s](round);
    }
    single.disconnect();
  }
  cluster.disconnect();
  await sql.end({ timeout: 5 });

  if (results.length) {
    const head = `${"setup".padEnd(50)} ${"req/s".padStart(7)} ${"p50".padStart(6)} ${"p95".padStart(6)} ${"p99".padStart(6)} ${"max".padStart(7)} ${"non2xx".padStart(6)} ${"events".padStart(7)} ${"drain".padStart(6)}`;
    console.log(`throughput (closed loop, ${connections} connections, ${durationS} s each, mixed 50:1; ms):`);
    console.log(`  ${head}`);
    for (const r of results)
      console.log(
        `  ${r.setup.padEnd(50)} ${String(r.rps).padStart(7)} ${String(r.latency_ms.p50).padStart(6)} ${String(r.latency_ms.p95).padStart(6)} ${String(r.latency_ms.p99).padStart(6)} ${String(r.latency_ms.max).padStart(7)} ${String(r.non_2xx + r.no_response).padStart(6)} ${String(r.events_handled).padStart(7)} ${`${r.drain_s_after}s`.padStart(6)}`,
      );
    console.log(
      "  (events: handled by the projectors during the measured window; drain: until every group caught up after it)",
    );
    console.log(
      `\nCPU during the ${durationS} s window (PostgreSQL and other tenants of the box not shown):`,
    );
    for (const r of results) {
      const per = r.cpu_ms_per_request;
      console.log(
        `  ${r.setup.split(":")[0]!.padEnd(10)} ms per request: apis ${per.api}, Redis ${per.redis}, projectors ${per.projector}`,
      );
      console.log(
        `  ${"".padEnd(10)} seconds: ${Object.entries(r.cpu_s)
          .filter(([, v]) => v > 0)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ")}`,
      );
    }
  }
  const at = new Date();
  const dir = join(import.meta.dir, "results");
  await mkdir(dir, { recursive: true });
  const file = join(dir, `cluster-${at.toISOString().replace(/[:.]/g, "-")}.json`);
  await Bun.write(
    file,
    `${JSON.stringify({ at: at.toISOString(), database: dbName, seed_users: seedUsers, scenario, load: results }, null, 2)}\n`,
  );
  console.log(`\n  report: ${file.replace(`${process.cwd()}/`, "")}`);
  return scenario.ok ? 0 : 1;
}

let code = 1;
try {
  code = await main();
} catch (e) {
  console.error(`cluster: ${(e as Error).message}\n  logs: ${stack.dir}`);
} finally {
  say("stopping everything this run started");
  await stack.stop();
}
process.exit(code);
