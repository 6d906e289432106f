// A first measurement of the feed service (issue 2): GET /feed (cached and cold heads) and
// POST /posts against an Elysia hello-world measured in the same run, as ratios, because the
// machine is shared and absolute numbers drift. Traffic goes to loopback only, bounded in time
// and count. Run with the stack up: `./dev bench` (the full load suite is issue 6).
import autocannon from "autocannon";
import { Elysia } from "elysia";
import { loadConfig } from "../core/config.ts";
import { randomShard } from "../core/ids.ts";
import { createRedis, runCommands } from "../core/redis.ts";
import { keys } from "../core/redis-keys.ts";
import { signAccessToken } from "../core/tokens.ts";
import { createSql } from "../db/client.ts";
import { insertUser } from "../db/users.ts";

const config = loadConfig();
const base = process.env.BENCH_BASE_URL ?? `http://127.0.0.1:${config.PORT}`;
if (!/^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(base))
  throw new Error(`bench targets loopback only, not ${base}`);
const DURATION = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const READERS = Number(process.env.BENCH_READERS ?? 3000);
const AUTHORS = 50;
const POSTS_PER_AUTHOR = 6;

const sql = createSql({ url: config.DATABASE_URL, max: 4 });
const redis = createRedis(config, "feed-bench");

interface Result {
  name: string;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function run(name: string, opts: autocannon.Options): Promise<Result> {
  const o: autocannon.Options = { connections: CONNECTIONS, ...opts };
  if (o.amount === undefined && o.duration === undefined) o.duration = DURATION;
  const r = await autocannon(o);
  const out = {
    name,
    requests: r.requests.total,
    rps: Math.round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors,
    non2xx: r.non2xx,
  };
  console.log(
    `${name.padEnd(22)} ${String(out.rps).padStart(7)} req/s   p50 ${String(out.p50).padStart(4)} ms   p99 ${String(out.p99).padStart(4)} ms   non-2xx ${out.non2xx}`,
  );
  return out;
}

async function seed() {
  const tag = Date.now().toString(36);
  const mk = (prefix: string, i: number) =>
    insertUser(sql, {
      shard: randomShard(),
      handle: `${prefix}${tag}_${i}`.slice(0, 30),
      display_name: `${prefix} ${i}`,
    });
  const authors = [];
  for (let i = 0; i < AUTHORS; i++) authors.push(await mk("ba", i));
  const readers = [];
  for (let i = 0; i < READERS; i++) readers.push(await mk("br", i));
  // Every reader follows every author, written directly: the bench measures reads, not seeding.
  await sql`
    INSERT INTO follows (follower_id, followee_id)
    SELECT r, a FROM unnest(${readers.map((r) => r.id)}::bigint[]) r CROSS JOIN unnest(${authors.map((a) => a.id)}::bigint[]) a`;
  const authorTokens = await Promise.all(
    authors.map(async (a) => (await signAccessToken(config, a.id)).token),
  );
  const readerTokens = await Promise.all(
    readers.map(async (r) => (await signAccessToken(config, r.id)).token),
  );
  // POST /posts is measured with writers nobody follows: the write path is the same, and the
  // run leaves no fan-out backlog of millions of rows behind it.
  const writers = [];
  for (let i = 0; i < 20; i++) writers.push(await mk("bw", i));
  const writerTokens = await Promise.all(
    writers.map(async (w) => (await signAccessToken(config, w.id)).token),
  );
  // Posts go through the API so the projector fans them out as in production.
  for (let i = 0; i < AUTHORS * POSTS_PER_AUTHOR; i++) {
    const res = await fetch(`${base}/posts`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${authorTokens[i % AUTHORS]}`,
        "content-type": "application/json",
        "idempotency-key": crypto.randomUUID(),
      },
      body: JSON.stringify({ text: `bench post ${i} `.repeat(8) }),
    });
    if (res.status !== 201) throw new Error(`seeding post failed: ${res.status} ${await res.text()}`);
  }
  // Wait for the fan-out: the last reader sees every post.
  const want = AUTHORS * POSTS_PER_AUTHOR;
  for (let i = 0; i < 600; i++) {
    const [row] =
      await sql`SELECT count(*)::int AS n FROM user_feed WHERE user_id = ${readers[readers.length - 1]!.id}`;
    if (row?.n === want) break;
    await Bun.sleep(100);
  }
  return { readers, readerTokens, writerTokens };
}

async function main() {
  const hello = new Elysia().get("/", () => "hello");
  const helloServer = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: hello.fetch });
  console.log(
    `seeding ${READERS} readers following ${AUTHORS} authors with ${AUTHORS * POSTS_PER_AUTHOR} posts…`,
  );
  const { readers, readerTokens, writerTokens } = await seed();
  const results: Result[] = [];

  results.push(await run("hello-world (baseline)", { url: `http://127.0.0.1:${helloServer.port}/` }));

  // Cold: every request is some reader's first read since their head was dropped.
  // One DEL per head: on a cluster the heads are in different slots.
  await runCommands(
    redis,
    readers.map((r) => ["del", keys.feedHead(r.id)]),
  );
  let coldNext = 0;
  results.push(
    await run("GET /feed cold head", {
      url: `${base}/feed?limit=20`,
      amount: Math.min(READERS, 3000),
      requests: [
        {
          setupRequest: (req: autocannon.Request) => ({
            ...req,
            headers: { authorization: `Bearer ${readerTokens[coldNext++ % readerTokens.length]}` },
          }),
        },
      ],
    }),
  );

  // Cached: a few hundred readers whose heads are now warm, read over and over.
  let warmNext = 0;
  results.push(
    await run("GET /feed cached head", {
      url: `${base}/feed?limit=20`,
      requests: [
        {
          setupRequest: (req: autocannon.Request) => ({
            ...req,
            headers: { authorization: `Bearer ${readerTokens[warmNext++ % 300]}` },
          }),
        },
      ],
    }),
  );

  let postNext = 0;
  results.push(
    await run("POST /posts", {
      url: `${base}/posts`,
      method: "POST",
      duration: Math.min(DURATION, 5),
      requests: [
        {
          setupRequest: (req: autocannon.Request) => ({
            ...req,
            method: "POST",
            headers: {
              authorization: `Bearer ${writerTokens[postNext++ % writerTokens.length]}`,
              "content-type": "application/json",
              "idempotency-key": crypto.randomUUID(),
            },
            body: JSON.stringify({
              text: "a benchmark post of ordinary length, about eighty characters in all",
            }),
          }),
        },
      ],
    }),
  );

  const baseline = results[0]!;
  console.log("\nratios against the hello-world baseline of this run:");
  for (const r of results.slice(1))
    console.log(`  ${r.name.padEnd(22)} throughput ${(r.rps / baseline.rps).toFixed(3)}×   p99 ${r.p99} ms`);
  const report = {
    at: new Date().toISOString(),
    base,
    duration_s: DURATION,
    connections: CONNECTIONS,
    readers: READERS,
    results,
  };
  await Bun.write(`${import.meta.dir}/results/bench-${Date.now()}.json`, JSON.stringify(report, null, 2));
  helloServer.stop(true);
  const failed = results.some((r) => r.errors > 0 || r.non2xx > 0);
  await sql.end();
  redis.disconnect();
  if (failed) {
    console.error("some requests failed: see non-2xx above");
    process.exit(1);
  }
}

await main();
