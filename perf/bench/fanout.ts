// Fan-out in the bench: rows per second for push authors' posts, and the lag until a pull
// author's followers see a post, under a paced cached-read load.

import { fanoutJobCount } from "../../db/projections.ts";
import { type BenchResults, cpuSplit } from "../bench-report.ts";
import { limited } from "../lib/pool.ts";
import { summarize } from "../lib/stats.ts";
import { sumOf } from "../load-report.ts";
import { isActive } from "../seed/model.ts";
import { backlogDrained, cpuSnapshot, cpuUsed, projectorSamples } from "./cpu.ts";
import type { Seed } from "./feed.ts";
import { actors, createPost, indexOf, paced, readFeed } from "./load.ts";
import { type Bench, BenchError, CORES, elapsedS, LAG_LOAD_SHARE, log } from "./settings.ts";
import { followersSample, usersByFollowers } from "./sql.ts";

/**
 * Posts by push authors (2 000–9 000 followers) published at once; feed rows written per second
 * from the projector's fanout_rows_total, from the first post to the last row.
 */
export async function fanOut(b: Bench, seed: Seed): Promise<BenchResults["fanout"]> {
  if (!(await backlogDrained(b))) log("warning: the backlog did not drain within 120 s");
  const authors = await usersByFollowers(b.sql, {
    min: 2000,
    max: 9000,
    lo: seed.lo,
    hi: seed.hi,
    limit: b.s.fanoutPosts,
  });
  const authorActors = await actors(
    b,
    authors.map((a) => a.id),
  );
  const handled = { group: "projector", type: "PostCreated", outcome: "ok" };
  const f0 = await projectorSamples(b);
  const rows0 = sumOf(f0, "fanout_rows_total");
  const handled0 = sumOf(f0, "projector_events_total", handled);
  const cpu0 = await cpuSnapshot(b);
  const t0 = performance.now();
  await limited(authorActors, 8, (a, i) => createPost(b, a, `bench fan-out post ${i}`));
  // Done when every PostCreated was handled, the fan-out lane holds no job (authors above
  // FANOUT_INLINE_MAX are fanned out there, after the handler returned) and the row counter has
  // stopped: the lane counts a batch just after its job row goes. The end is the last increase.
  let rows = rows0;
  let lastIncrease = performance.now();
  let drained = false;
  while (elapsedS(t0) < 180) {
    const samples = await projectorSamples(b);
    const now = sumOf(samples, "fanout_rows_total");
    if (now !== rows) {
      rows = now;
      lastIncrease = performance.now();
    }
    const allHandled = sumOf(samples, "projector_events_total", handled) - handled0 >= authorActors.length;
    if (allHandled && (await fanoutJobCount(b.sql)) === 0 && performance.now() - lastIncrease > 500) {
      drained = true;
      break;
    }
    await Bun.sleep(50);
  }
  const wall = (lastIncrease - t0) / 1000;
  const written = rows - rows0;
  b.cpu.push(
    cpuSplit("fan-out (per row)", cpuUsed(cpu0, await cpuSnapshot(b)), written, elapsedS(t0), CORES),
  );
  const followers = authors.reduce((s, a) => s + a.followers, 0);
  log(
    `fan-out: ${written} rows for ${followers} followers in ${wall.toFixed(1)} s (${(written / wall).toFixed(0)} rows/s)`,
  );
  return {
    posts: authorActors.length,
    followers,
    rows: written,
    wallSeconds: wall,
    rowsPerS: wall > 0 ? written / wall : 0,
    followersPerS: wall > 0 ? followers / wall : 0,
    drained,
  };
}

/**
 * A post by a seeded author with ≥ 100 000 followers (a pull author), while a paced cached-read
 * load runs: a sample of the author's followers poll GET /feed until it shows the post.
 */
export async function fanOutLag(
  b: Bench,
  seed: Seed,
  backgroundRequest: (i: number) => { path: string; init?: RequestInit },
  cachedMax: number,
): Promise<BenchResults["lag"]> {
  if (!(await backlogDrained(b))) log("warning: the backlog did not drain within 120 s");
  const { params } = seed;
  const [big] = await usersByFollowers(b.sql, {
    min: 100_000,
    max: 1e12,
    lo: seed.lo,
    hi: seed.hi,
    limit: 1,
  });
  if (!big) throw new BenchError("no seeded user with ≥ 100 000 followers: a 1M-user seed is needed");
  // Active followers first: they are the ones who read.
  const candidates = await followersSample(b.sql, big.id, 5000);
  const active = candidates.filter((id) => isActive(params, indexOf(id)));
  const chosen = [...active, ...candidates.filter((id) => !isActive(params, indexOf(id)))].slice(
    0,
    b.s.lagSample,
  );
  const followers = await actors(b, chosen);
  const [author] = await actors(b, [big.id]);
  await limited(followers, b.s.connections, (a) => readFeed(b, a)); // heads, pull lists and the author's cache
  let done = false;
  const background = paced(
    b,
    Math.max(1, Math.round(cachedMax * LAG_LOAD_SHARE)),
    b.s.lagDeadlineS + 10,
    backgroundRequest,
    () => done,
  );
  await Bun.sleep(1000);
  const lagMatch = { group: "projector", type: "PostCreated" };
  const l0 = await projectorSamples(b);
  const t0 = performance.now();
  const post = await createPost(b, author!, "bench: a post by a very popular author");
  // Each follower's lag lies between the sending of its last poll without the post (the post
  // was not visible when that one was sent) and the arrival of its first poll with it.
  const seen = new Map<number, number>();
  const notYet = new Map<number, number>();
  let polls = 0;
  const poll = async (i: number) => {
    const sentAt = performance.now() - t0;
    const page = await readFeed(b, followers[i]!);
    polls++;
    // A refused read (a rate limit's 429) says nothing about whether the post is there.
    if (seen.has(i) || page.status !== 200) return;
    if (page.ids.includes(post)) seen.set(i, performance.now() - t0);
    else notYet.set(i, Math.max(notYet.get(i) ?? 0, sentAt));
  };
  const polling = () => seen.size < followers.length && elapsedS(t0) < b.s.lagDeadlineS;
  // Follower 0 is polled back to back by a poller of its own: the sample's lag is bounded by how
  // long one round over every follower takes, this one's only by a single read.
  let cursor = 0;
  await Promise.all([
    (async () => {
      while (!seen.has(0) && polling()) await poll(0);
    })(),
    ...Array.from({ length: b.s.lagPollers }, async () => {
      while (polling()) {
        let i = 0;
        for (let k = 0; (i === 0 || seen.has(i)) && k <= followers.length; k++)
          i = cursor++ % followers.length;
        if (i === 0 || seen.has(i)) break;
        await poll(i);
      }
    }),
  ]);
  const pollSeconds = elapsedS(t0);
  done = true;
  const { latenciesMs: _, ...bg } = await background;
  // The projector's own view: from the event's occurred_at to its handler's commit.
  let projectorLagMs: number | null = null;
  for (let k = 0; k < 20 && projectorLagMs === null; k++) {
    const l1 = await projectorSamples(b);
    const delta = (name: string) => sumOf(l1, name, lagMatch) - sumOf(l0, name, lagMatch);
    const n = delta("projector_event_lag_seconds_count");
    if (n >= 1) projectorLagMs = (delta("projector_event_lag_seconds_sum") / n) * 1000;
    else await Bun.sleep(250);
  }
  const lags = [...seen.values()];
  log(`lag: ${seen.size} of ${followers.length} followers saw the post; p99 ${summarize(lags).p99} ms`);
  return {
    authorFollowers: big.followers,
    sampled: followers.length,
    activeSampled: Math.min(active.length, followers.length),
    lagsMs: lags,
    lagsLowerMs: [...seen.keys()].map((i) => notYet.get(i) ?? 0),
    closeUp: seen.has(0) ? { lowerMs: notYet.get(0) ?? 0, upperMs: seen.get(0)! } : null,
    pollers: b.s.lagPollers,
    missing: followers.length - seen.size,
    deadlineS: b.s.lagDeadlineS,
    pollsPerFollowerPerS: polls / followers.length / pollSeconds,
    projectorLagMs,
    background: { ...bg, share: LAG_LOAD_SHARE },
  };
}
