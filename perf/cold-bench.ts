// Cold GET /feed on the seeded database, against an Elysia hello-world measured in the same run
// (perf/wrk.ts): active seeded readers coming back after their caches expired (the head, the
// pull-author list and the seen-today mark deleted), each read once, with wrk in its own
// process; per read the CPU of the api (from /proc), PostgreSQL (its processes, from /proc) and
// Redis (INFO cpu), PostgreSQL transactions (pg_stat_database) and Redis commands.
//
//   ./dev seed && ./dev up && bun perf/cold-bench.ts [--readers 3000] [--report]
//
// Targets the running ./dev stack (loopback only). --report appends a row to
// perf/reports/<date>-cold.md.
import { parseArgs } from "node:util";
import { loadConfig } from "../core/config.ts";
import { createRedis, runCommands } from "../core/redis.ts";
import { keys } from "../core/redis-keys.ts";
import { signAccessToken } from "../core/tokens.ts";
import { createSql } from "../db/client.ts";
import { commitOf } from "./lib/git.ts";
import { postmasterPid, treeSeconds } from "./lib/proc.ts";
import { isActive, type SeedParams, userId } from "./seed/model.ts";
import { phases } from "./seed/sql.ts";
import { appendRun, helloWorld, redisStats, tokenScript, wrk } from "./wrk.ts";

const { values: args } = parseArgs({
  options: {
    readers: { type: "string", default: "3000" },
    connections: { type: "string", default: "16" },
    seconds: { type: "string", default: "6" },
    report: { type: "boolean", default: false },
  },
});
const READERS = Number(args.readers);
const CONNECTIONS = Number(args.connections);
const SECONDS = Number(args.seconds);

const config = loadConfig();
const base = `http://127.0.0.1:${config.PORT}`;
const sql = createSql({ url: config.DATABASE_URL, max: 4 });
const redis = createRedis(config, "feed-cold-bench");
const say = (m: string) => console.log(`==> ${m}`);

const params = [...(await phases(sql)).values()][0]?.params as SeedParams | undefined;
if (!params) throw new Error("the development database holds no seed: run ./dev seed first");

// Active readers from a random place, so that runs in a row read different users.
const readers: string[] = [];
const from = Math.floor(Math.random() * params.users);
for (let i = 0; i < params.users && readers.length < READERS; i++) {
  const u = (from + i) % params.users;
  if (isActive(params, u)) readers.push(userId(u).toString());
}
const tokens = await Promise.all(readers.map(async (id) => (await signAccessToken(config, id)).token));
for (let i = 0; i < readers.length; i += 500) {
  await runCommands(
    redis,
    readers.slice(i, i + 500).flatMap((id) => [
      ["del", keys.feedHead(id)],
      ["del", keys.pullFollows(id)],
      ["del", keys.readerSeen(id)],
    ]),
  );
}

async function pgXacts(): Promise<number> {
  const [row] = await sql<{ n: string }[]>`
    SELECT (xact_commit + xact_rollback)::text AS n FROM pg_stat_database WHERE datname = current_database()`;
  return Number(row!.n);
}

say(`hello-world: wrk -t1 -c${CONNECTIONS} -d${SECONDS}s`);
const hw = await helloWorld({ connections: CONNECTIONS, seconds: SECONDS });

say(`cold GET /feed?limit=20: ${readers.length} readers once each, wrk -t1 -c${CONNECTIONS}`);
const apiPid = (await Bun.file(".dev/pids/api.pid").text()).trim();
const pg = await postmasterPid(sql);
const script = await tokenScript("/feed?limit=20", tokens, readers.length);
const snap = async () => ({
  api: await treeSeconds(apiPid),
  pg: await treeSeconds(pg),
  redis: await redisStats(redis),
  xacts: await pgXacts(),
});
const before = await snap();
const feed = await wrk(`${base}/feed?limit=20`, {
  connections: CONNECTIONS,
  seconds: 300,
  script,
  doneFile: `${script}.done`,
});
const after = await snap();
const per = (s: number) => Math.round((s / feed.requests) * 1e6);
const result = {
  commit: commitOf(),
  readers: readers.length,
  helloRate: Math.round(hw.rate),
  coldRate: Math.round(feed.rate),
  share: feed.rate / hw.rate,
  p50: feed.p50,
  p99: feed.p99,
  non2xx: feed.non2xx,
  apiUs: per(after.api - before.api),
  pgUs: per(after.pg - before.pg),
  redisUs: per(after.redis.cpu - before.redis.cpu),
  // Less the four snapshot queries' own transactions.
  pgXacts: (after.xacts - before.xacts - 4) / feed.requests,
  redisCommands: (after.redis.commands - before.redis.commands) / feed.requests,
};
console.table(result);

if (args.report) {
  const date = new Date().toISOString().slice(0, 10);
  const file = `perf/reports/${date}-cold.md`;
  const r = result;
  await appendRun(
    file,
    `# Cold GET /feed against hello-world (${date})\n\n` +
      "`bun perf/cold-bench.ts --report` on `./dev up` over the 1M seed: active seeded readers whose head, " +
      `pull-author list and seen-today mark were deleted, each read once, wrk -t1 -c${CONNECTIONS} ` +
      "(its own process); hello-world in its own process in the same run. CPU per read from /proc (api, " +
      "PostgreSQL) and INFO (Redis); PostgreSQL transactions from pg_stat_database. One row per run, newest last.",
    [
      ["commit", r.commit],
      ["readers", r.readers],
      ["hello req/s", r.helloRate],
      ["cold req/s", r.coldRate],
      ["share", r.share.toFixed(3)],
      ["api µs", r.apiUs],
      ["PG µs", r.pgUs],
      ["Redis µs", r.redisUs],
      ["PG xacts", r.pgXacts.toFixed(2)],
      ["Redis cmds", r.redisCommands.toFixed(1)],
      ["p50 ms", r.p50.toFixed(1)],
      ["p99 ms", r.p99.toFixed(1)],
      ["non-2xx", r.non2xx],
    ],
  );
  say(`appended to ${file}`);
}
await sql.end();
redis.disconnect();
