// The service's runs of the bench: cached reads (closed-loop maximum and the paced sweep), cold
// reads with Redis memory, writes (posts, likes) and the 50:1 mix, on the seeded network.
import type autocannon from "autocannon";
import { runCommands } from "../../core/redis.ts";
import { keys } from "../../core/redis-keys.ts";
import {
  type BenchResults,
  outsideShare,
  type RatePoint,
  sweepRates,
  type Throughput,
} from "../bench-report.ts";
import { limited } from "../lib/pool.ts";
import { requestKind } from "../load-report.ts";
import { postId, postSchedule, type SeedParams, userId, userIdRange } from "../seed/model.ts";
import { phases } from "../seed/sql.ts";
import { cpuSnapshot, cpuUsed, measured, redisInfo } from "./cpu.ts";
import { type Actor, activeUsers, actors, auth, closedLoop, paced, readFeed } from "./load.ts";
import { type Bench, BenchError, log, SWEEP } from "./settings.ts";
import { usersByFollowers } from "./sql.ts";

export type Run = Throughput & { latenciesMs: number[] };
export type Build = (n: number, req: autocannon.Request) => autocannon.Request;

/** What every phase needs: the seed's parameters and ids, and the users already given a role. */
export interface Seed {
  params: SeedParams;
  lo: bigint;
  hi: bigint;
  /** Seeded user indexes already acting in some role, so roles stay disjoint. */
  taken: Set<number>;
}

export const random = (n: number) => Math.floor(Math.random() * n);

export async function loadSeed(b: Bench): Promise<Seed> {
  const seedRuns = await phases(b.sql);
  const params = [...seedRuns.values()][0]?.params as SeedParams | undefined;
  const complete = ["users", "follows", "posts", "likes", "stats", "feeds"].every(
    (ph) => seedRuns.get(ph)?.state === "done",
  );
  if (!params || !complete)
    throw new BenchError("the development database holds no complete seed: run ./dev seed first");
  const [lo, hi] = userIdRange(params.users);
  return { params, lo, hi, taken: new Set() };
}

/** A few hundred active readers with warm heads, read in turn: closed-loop maximum, then the sweep. */
export async function cachedReads(b: Bench, seed: Seed) {
  const pool = await actors(
    b,
    activeUsers(seed.params, 0, b.s.cachedReaders, seed.taken).map((u) => userId(u).toString()),
  );
  const warm = await limited(pool, b.s.connections, (a) => readFeed(b, a));
  if (warm.some((w) => w.status !== 200)) throw new BenchError("warming the cached readers' heads failed");
  let next = 0;
  const build: Build = (_n, req) => ({
    ...req,
    method: "GET",
    path: "/feed?limit=20",
    headers: auth(pool[next++ % pool.length]!),
    body: undefined,
  });
  const pacedRequest = (i: number) => ({
    path: "/feed?limit=20",
    init: { headers: auth(pool[i % pool.length]!) },
  });
  await closedLoop(b, "cached warm-up (not recorded)", { seconds: 2, build });
  const max = await measured(b, "cached GET /feed", () =>
    closedLoop(b, "cached GET /feed, closed loop", { seconds: b.s.seconds, build }),
  );
  const sweep: RatePoint[] = [];
  for (const { share, rate } of sweepRates(max.rps, SWEEP)) {
    const before = await cpuSnapshot(b);
    const { latenciesMs: _, ...p } = await paced(b, rate, b.s.seconds, pacedRequest);
    sweep.push({ ...p, share, outsideShare: outsideShare(cpuUsed(before, await cpuSnapshot(b))) });
    log(
      `cached sweep ${Math.round(share * 100)}%: ${rate} req/s offered, ${p.achieved.toFixed(0)} achieved, p50 ${p.latency.p50} ms, p99 ${p.latency.p99} ms, dropped ${p.dropped}`,
    );
  }
  const at70 = sweep.find((s) => s.share === 0.7)!;
  const ac = await closedLoop(b, "cached GET /feed, autocannon overallRate at 70%", {
    seconds: b.s.seconds,
    overallRate: at70.offered,
    build,
  });
  const autocannon70: RatePoint = {
    share: 0.7,
    offered: at70.offered,
    achieved: ac.rps,
    dropped: 0,
    latency: ac.latency,
    statuses: ac.statuses,
  };
  return { pool, build, pacedRequest, max, sweep, at70, autocannon70 };
}

/**
 * Each request a different active reader whose head and pull-author list were just deleted (as
 * after a week away). Redis's used_memory around the run gives the memory of the heads it
 * rebuilt; MEMORY USAGE of a sample gives the head keys alone.
 */
export async function coldReads(b: Bench, seed: Seed, activeTotal: number) {
  const users = activeUsers(seed.params, random(seed.params.users), b.s.coldReaders, seed.taken);
  const pool = await actors(
    b,
    users.map((u) => userId(u).toString()),
  );
  for (let i = 0; i < pool.length; i += 500) {
    const chunk = pool.slice(i, i + 500);
    // One DEL per key: on a cluster the heads are in different slots.
    await runCommands(
      b.redis,
      chunk.flatMap((a) => [
        ["del", keys.feedHead(a.id)],
        ["del", keys.pullFollows(a.id)],
      ]),
    );
  }
  const usedBefore = Number((await redisInfo(b, "memory")).get("used_memory"));
  let next = 0;
  const run = await measured(b, "cold GET /feed", () =>
    closedLoop(b, "cold GET /feed", {
      seconds: Math.max(b.s.seconds * 2, 10),
      amount: pool.length,
      build: (_n, req) => ({
        ...req,
        method: "GET",
        path: "/feed?limit=20",
        headers: auth(pool[next++ % pool.length]!),
        body: undefined,
      }),
    }),
  );
  const usedAfter = Number((await redisInfo(b, "memory")).get("used_memory"));
  const sample = pool.slice(0, Math.min(next, pool.length, 200));
  const usage = await Promise.all(
    sample.map(
      (a) => b.redis.call("MEMORY", "USAGE", keys.feedHead(a.id), "SAMPLES", "0") as Promise<number | null>,
    ),
  );
  const present = usage.filter((u): u is number => typeof u === "number");
  const heads = run.statuses["200"] ?? 0;
  const bytesPerHead = heads > 0 ? (usedAfter - usedBefore) / heads : 0;
  const memory: BenchResults["redisMemory"] = {
    heads,
    usedBefore,
    usedAfter,
    bytesPerHead,
    headKeyBytes: present.reduce((s, u) => s + u, 0) / Math.max(present.length, 1),
    extrapolatedBytes: usedBefore + bytesPerHead * activeTotal,
  };
  log(
    `Redis: ${bytesPerHead.toFixed(0)} bytes per rebuilt reader (head key alone ${memory.headKeyBytes.toFixed(0)})`,
  );
  return { run, memory };
}

/**
 * POST /posts by seeded authors with at most 10 followers (no fan-out backlog left behind),
 * POST /likes of seeded posts by seeded users (distinct pairs, so real inserts), then the 50:1
 * mix of cached reads and those writes.
 */
export async function writes(b: Bench, seed: Seed, cachedBuild: Build) {
  const { params, lo, hi } = seed;
  const writers = await actors(
    b,
    (await usersByFollowers(b.sql, { min: 0, max: 10, lo, hi, limit: 200 })).map((u) => u.id),
  );
  if (writers.length === 0) throw new BenchError("no seeded user with ≤ 10 followers to post as");
  const likers = await actors(
    b,
    Array.from({ length: 1000 }, () => userId(random(params.users)).toString()),
  );
  const posts = postSchedule(params);
  const liked = new Set<string>();
  const newLike = (): { liker: Actor; postId: string } => {
    for (;;) {
      const li = random(likers.length);
      const j = random(posts.author.length);
      const k = `${li}:${j}`;
      if (liked.has(k)) continue;
      liked.add(k);
      return { liker: likers[li]!, postId: postId(posts, j).toString() };
    }
  };
  let written = 0;
  const postReq = (req: autocannon.Request): autocannon.Request => ({
    ...req,
    method: "POST",
    path: "/posts",
    headers: {
      ...auth(writers[written % writers.length]!),
      "content-type": "application/json",
      "idempotency-key": crypto.randomUUID(),
    },
    body: JSON.stringify({ text: `bench post ${written++}: an ordinary post of about eighty characters` }),
  });
  const likeReq = (req: autocannon.Request): autocannon.Request => {
    const { liker, postId } = newLike();
    return {
      ...req,
      method: "POST",
      path: "/likes",
      headers: { ...auth(liker), "content-type": "application/json" },
      body: JSON.stringify({ post_id: postId }),
    };
  };
  const postsRun = await measured(
    b,
    "POST /posts",
    () => closedLoop(b, "POST /posts", { seconds: b.s.seconds, build: (_n, req) => postReq(req) }),
    { drain: true },
  );
  const likesRun = await measured(
    b,
    "POST /likes",
    () => closedLoop(b, "POST /likes", { seconds: b.s.seconds, build: (_n, req) => likeReq(req) }),
    { drain: true },
  );
  // Read-only again just before the mix, for a ratio between runs minutes apart on a shared box.
  const readOnly = await closedLoop(b, "cached GET /feed again, just before the mix", {
    seconds: b.s.seconds,
    build: cachedBuild,
  });
  const mixedCount = { reads: 0, writes: 0, readOnlyRps: readOnly.rps };
  const mixed = await measured(
    b,
    "mixed 50:1",
    () =>
      closedLoop(b, "mixed 50:1", {
        seconds: b.s.seconds,
        build: (n, req) => {
          const kind = requestKind("mixed", n);
          if (kind === "feed") {
            mixedCount.reads++;
            return cachedBuild(n, req);
          }
          mixedCount.writes++;
          return kind === "post" ? postReq(req) : likeReq(req);
        },
      }),
    { drain: true },
  );
  return { postsRun, likesRun, mixed, mixedCount };
}
