// Cached GET /feed at full speed, against an Elysia hello-world measured in the same run, with
// wrk in its own process (the method of perf/wrk.ts): warm readers whose feeds each hold 20 text posts,
// wrk -t1 -c50 for the maximum rate of each, and per read the CPU of the api process (from
// /proc), of Redis (INFO cpu) and of PostgreSQL (its processes, from /proc), and Redis commands.
//
//   ./dev up && bun perf/read-bench.ts [--readers 40] [--seconds 6] [--report]
//
// Targets the running ./dev stack (loopback only); its users are made in the development
// database with handles rb_<run>_<n>. --report writes perf/reports/<date>-read.md.
import { parseArgs } from "node:util";
import { loadConfig } from "../core/config.ts";
import { createRedis } from "../core/redis.ts";
import { signAccessToken } from "../core/tokens.ts";
import { createSql } from "../db/client.ts";
import { insertUser } from "../db/users.ts";
import { commitOf } from "./lib/git.ts";
import { postmasterPid, treeSeconds } from "./lib/proc.ts";
import { appendRun, helloWorld, redisStats, tokenScript, wrk } from "./wrk.ts";

const { values: args } = parseArgs({
  options: {
    readers: { type: "string", default: "40" },
    authors: { type: "string", default: "5" },
    seconds: { type: "string", default: "6" },
    connections: { type: "string", default: "50" },
    report: { type: "boolean", default: false },
  },
});
const READERS = Number(args.readers);
const AUTHORS = Number(args.authors);
const POSTS_EACH = Math.ceil(20 / AUTHORS);
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);

const config = loadConfig();
const base = `http://127.0.0.1:${config.PORT}`;
const sql = createSql({ url: config.DATABASE_URL, max: 4 });
const redis = createRedis(config, "feed-read-bench");
const say = (m: string) => console.log(`==> ${m}`);

const apiPid = (await Bun.file(".dev/pids/api.pid").text()).trim();

async function call(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      "idempotency-key": crypto.randomUUID(),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
  return res.json();
}

// ---------------------------------------------------------------- setup
const run = Date.now().toString(36);
say(`setup: ${READERS} readers following ${AUTHORS} authors of ${POSTS_EACH} posts each`);
const make = async (role: string, i: number) => {
  const u = await insertUser(sql, {
    shard: i % 8,
    handle: `rb_${run}_${role}${i}`,
    display_name: `${role} ${i}`,
  });
  return { id: u.id, token: (await signAccessToken(config, u.id, 900)).token };
};
const authors = await Promise.all(Array.from({ length: AUTHORS }, (_, i) => make("a", i)));
const readers = await Promise.all(Array.from({ length: READERS }, (_, i) => make("r", i)));
for (const r of readers) for (const a of authors) await call("POST", "/follows", r.token, { user_id: a.id });
for (let p = 0; p < POSTS_EACH; p++)
  for (const a of authors)
    await call("POST", "/posts", a.token, { text: `post ${p} by ${a.id}: ${"x".repeat(80)}` });
const want = AUTHORS * POSTS_EACH;
const deadline = Date.now() + 60_000;
for (const r of readers) {
  for (;;) {
    const page = (await call("GET", "/feed?limit=20", r.token)) as { items: unknown[] };
    if (page.items.length >= Math.min(20, want)) break;
    if (Date.now() > deadline) throw new Error("feeds did not fill within 60 s");
    await Bun.sleep(100);
  }
}
// Warm: every reader's head, bodies, counts and liked set are cached after a read or two.
for (let i = 0; i < 3; i++) for (const r of readers) await call("GET", "/feed?limit=20", r.token);

// ---------------------------------------------------------------- measuring
const luaFile = await tokenScript(
  "/feed?limit=20",
  readers.map((r) => r.token),
);
say(`hello-world: wrk -t1 -c${CONNECTIONS} -d${SECONDS}s`);
const hw = await helloWorld({ connections: CONNECTIONS, seconds: SECONDS });

say(`cached GET /feed?limit=20: wrk -t1 -c${CONNECTIONS} -d${SECONDS}s over ${READERS} readers`);
const pg = await postmasterPid(sql);
const before = { api: await treeSeconds(apiPid), pg: await treeSeconds(pg), redis: await redisStats(redis) };
const feed = await wrk(`${base}/feed?limit=20`, {
  connections: CONNECTIONS,
  seconds: SECONDS,
  script: luaFile,
});
const after = { api: await treeSeconds(apiPid), pg: await treeSeconds(pg), redis: await redisStats(redis) };
const per = (s: number) => Math.round((s / feed.requests) * 1e6);
const result = {
  commit: commitOf(),
  readers: READERS,
  helloRate: Math.round(hw.rate),
  helloCpuUs: hw.cpuUs,
  feedRate: Math.round(feed.rate),
  ratio: feed.rate / hw.rate,
  feedP50: feed.p50,
  feedP99: feed.p99,
  non2xx: feed.non2xx,
  apiUs: per(after.api - before.api),
  redisUs: per(after.redis.cpu - before.redis.cpu),
  pgUs: per(after.pg - before.pg),
  redisCommands: (after.redis.commands - before.redis.commands) / feed.requests,
};
console.table(result);

if (args.report) {
  const date = new Date().toISOString().slice(0, 10);
  const file = `perf/reports/${date}-read.md`;
  const r = result;
  await appendRun(
    file,
    `# Cached GET /feed against hello-world (${date})\n\n` +
      `\`bun perf/read-bench.ts --report\` on \`./dev up\`: ${READERS} warm readers, 20 text posts in each feed, ` +
      `wrk -t1 -c${CONNECTIONS} -d${SECONDS}s for each (wrk in its own process), hello-world in its own process. ` +
      "CPU per read from /proc (api, PostgreSQL) and INFO (Redis); Redis commands per read from INFO stats. " +
      "One row per run, newest last.",
    [
      ["commit", r.commit],
      ["hello req/s", r.helloRate],
      ["feed req/s", r.feedRate],
      ["share", r.ratio.toFixed(3)],
      ["api µs/read", r.apiUs],
      ["Redis µs/read", r.redisUs],
      ["PG µs/read", r.pgUs],
      ["Redis cmds/read", r.redisCommands.toFixed(1)],
      ["p50 ms", r.feedP50.toFixed(1)],
      ["p99 ms", r.feedP99.toFixed(1)],
      ["non-2xx", r.non2xx],
    ],
  );
  say(`appended to ${file}`);
}
await sql.end();
redis.disconnect();
