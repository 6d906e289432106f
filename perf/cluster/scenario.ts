import type { Config } from "../../core/config.ts";
import { randomShard } from "../../core/ids.ts";
import { isCluster, type RedisClient, slotOf } from "../../core/redis.ts";
import { keys } from "../../core/redis-keys.ts";
import { signAccessToken } from "../../core/tokens.ts";
import type { Sql } from "../../db/client.ts";
import { likeRowCounts } from "../../db/graph.ts";
import { insertUser } from "../../db/users.ts";
import { backlogOf, mustDrain } from "../lib/drain.ts";
import { apiFetch } from "../lib/http.ts";
import { limited } from "../lib/pool.ts";
import { rng } from "../lib/prng.ts";

// The scale-out correctness scenario, over HTTP across two apis: every write through api A,
// every read through api B, with one or several projectors behind them, then checks against
// what was written. Fresh users each run, so the expected state is exact:
// - every post is in the feed of its author and of every final follower exactly once, and in
//   no other feed (read page by page, so the cursor path is covered too);
// - like counts (through the api, and in feed items) equal the likes rows and what was sent;
// - profile counters equal the final graph;
// - every consumer group has acknowledged every entry of every partition, no fan-out job is
//   left, and the dead-letter stream is empty;
// - every projector handled events (the partitions really were shared);
// - on a cluster: keys live on every master, and our slot function agrees with the server.
// Phases drain in between, so the checks never race the projector (and never hit the known
// fan-out/unfollow race of the at-least-once model (docs/architecture.md §4), which has nothing
// to do with Redis).

export interface ScenarioOptions {
  apiA: string;
  apiB: string;
  /** The projectors' metrics servers (each must report handled events). */
  projectors: readonly string[];
  sql: Sql;
  redis: RedisClient;
  /** The apis' configuration (JWT_SECRET, PUBLIC_URL, STREAM_PARTITIONS …). */
  config: Config;
  users?: number;
  followsEach?: number;
  postsEach?: number;
  likesEach?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  drainTimeoutMs?: number;
  log?: (msg: string) => void;
  seed?: number;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface ScenarioResult {
  ok: boolean;
  checks: Check[];
  counts: Record<string, number>;
  elapsedMs: number;
}

interface User {
  id: string;
  token: string;
}

// biome-ignore lint/suspicious/noExplicitAny: checks read loosely typed JSON bodies
type Json = any;

async function call(
  base: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Json }> {
  const res = await apiFetch(base, token, method, path, body, { signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

function expectStatus(r: { status: number; body: Json }, ok: number[], what: string): void {
  if (!ok.includes(r.status)) throw new Error(`${what} answered ${r.status}: ${JSON.stringify(r.body)}`);
}

/** Until every group has acknowledged every entry and no fan-out job is left; throws past timeoutMs. */
export async function drainProjectors(redis: RedisClient, sql: Sql, partitions: number, timeoutMs: number) {
  await mustDrain(
    () => backlogOf(redis, sql, partitions),
    { timeoutMs, intervalMs: 100 },
    "the projectors did not drain",
  );
}

/** Sum of projector_events_total{outcome="ok"} on a metrics server. */
async function handledEvents(metricsUrl: string): Promise<number> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  let n = 0;
  for (const line of text.split("\n"))
    if (line.startsWith("projector_events_total{") && line.includes('outcome="ok"'))
      n += Number(line.slice(line.lastIndexOf(" ") + 1));
  return n;
}

export async function runScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  const started = Date.now();
  const log = o.log ?? (() => {});
  const rnd = rng(o.seed ?? 42);
  const n = o.users ?? 30;
  const followsEach = o.followsEach ?? 6;
  const postsEach = o.postsEach ?? 3;
  const likesEach = o.likesEach ?? 5;
  const conc = o.concurrency ?? 16;
  const drainMs = o.drainTimeoutMs ?? 30_000;
  const partitions = o.config.STREAM_PARTITIONS;
  const drain = () => drainProjectors(o.redis, o.sql, partitions, drainMs);
  const handledBefore = await Promise.all(o.projectors.map(handledEvents));

  // Fresh users on random shards, so their events spread over every partition.
  const run = `${Date.now().toString(36)}${Math.floor(rnd() * 1e4)}`;
  const users: User[] = [];
  for (let i = 0; i < n; i++) {
    const u = await insertUser(o.sql, {
      shard: randomShard(),
      handle: `c${run}_${i}`.slice(0, 30),
      display_name: `cluster ${i}`,
    });
    users.push({ id: u.id, token: (await signAccessToken(o.config, u.id)).token });
  }
  const follows = new Map<string, Set<string>>(users.map((u) => [u.id, new Set()]));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  // User 0 is followed by everyone: above FANOUT_PULL_THRESHOLD it is a pull author; others
  // land above FANOUT_INLINE_MAX now and then (the lane) or below (inline push).
  const celebrity = users[0]!;
  const plan = (count: number): [User, User][] => {
    const out: [User, User][] = [];
    for (const u of users) {
      for (let k = 0; k < count; k++) {
        const v = k === 0 && u !== celebrity ? celebrity : pick(users);
        if (v !== u) out.push([u, v]);
      }
    }
    return out;
  };
  const follow = async ([u, v]: [User, User]) => {
    const r = await call(o.apiA, u.token, "POST", "/follows", { user_id: v.id });
    expectStatus(r, [200, 201], "POST /follows");
    follows.get(u.id)!.add(v.id);
  };
  const readFeed = async (u: User): Promise<{ id: string; like_count: number }[]> => {
    const items: { id: string; like_count: number }[] = [];
    let cursor: string | null = null;
    do {
      const r = await call(o.apiB, u.token, "GET", `/feed?limit=7${cursor ? `&cursor=${cursor}` : ""}`);
      expectStatus(r, [200], "GET /feed");
      items.push(...r.body.items.map((i: Json) => ({ id: i.id, like_count: i.like_count })));
      cursor = r.body.next_cursor;
    } while (cursor);
    return items;
  };

  // Phase 1: the graph; then every feed is read once, so heads and pull lists are cached and the
  // next posts are pushed onto existing heads (the cluster's per-slot push).
  log(`phase 1: ${n} users follow ~${followsEach} others each (api A)`);
  await limited(plan(followsEach), conc, follow);
  await drain();
  await limited(users, conc, async (u) => void (await readFeed(u)));

  // Phase 2: posts, while more follows arrive (a follow backfills what was posted before it).
  log(`phase 2: ${postsEach} posts each, and more follows (api A)`);
  const posts: { id: string; author: string }[] = [];
  const postJobs = users.flatMap((u) => Array.from({ length: postsEach }, (_, k) => ({ u, k })));
  await Promise.all([
    limited(postJobs, conc, async ({ u, k }) => {
      const r = await call(o.apiA, u.token, "POST", "/posts", { text: `post ${k} by ${u.id}` });
      expectStatus(r, [201], "POST /posts");
      posts.push({ id: r.body.id, author: u.id });
    }),
    limited(plan(2), Math.max(1, conc / 4), follow),
  ]);
  await drain();

  // Phase 3: likes (some twice, some taken back) and unfollows.
  log(`phase 3: ~${likesEach} likes each, some unliked, some unfollows (api A)`);
  const liked = new Set<string>(); // `${user} ${post}`
  // One job per (user, post), so no two requests on one like race each other's bookkeeping.
  const likeJobs = new Map<string, { u: User; p: { id: string } }>();
  for (const u of users)
    for (let k = 0; k < likesEach; k++) {
      const p = pick(posts);
      likeJobs.set(`${u.id} ${p.id}`, { u, p });
    }
  const unfollows: [User, User][] = [];
  for (const u of users)
    for (const v of follows.get(u.id)!) if (rnd() < 0.15) unfollows.push([u, users.find((x) => x.id === v)!]);
  await Promise.all([
    limited([...likeJobs], conc, async ([k, { u, p }]) => {
      const like = () => call(o.apiA, u.token, "POST", "/likes", { post_id: p.id });
      expectStatus(await like(), [201], "POST /likes");
      liked.add(k);
      const r = rnd();
      if (r < 0.2) expectStatus(await like(), [200], "POST /likes again");
      else if (r < 0.4) {
        expectStatus(await call(o.apiA, u.token, "DELETE", `/likes/${p.id}`), [204], "DELETE /likes");
        liked.delete(k);
      }
    }),
    limited(unfollows, Math.max(1, conc / 4), async ([u, v]) => {
      expectStatus(await call(o.apiA, u.token, "DELETE", `/follows/${v.id}`), [204], "DELETE /follows");
      follows.get(u.id)!.delete(v.id);
    }),
  ]);
  await drain();

  // Checks.
  log("checking through api B");
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  const likeCount = new Map<string, number>(posts.map((p) => [p.id, 0]));
  for (const k of liked) {
    const p = k.split(" ")[1]!;
    likeCount.set(p, (likeCount.get(p) ?? 0) + 1);
  }
  const postsBy = new Map<string, string[]>();
  for (const p of posts) postsBy.set(p.author, [...(postsBy.get(p.author) ?? []), p.id]);

  let missing = 0;
  let extra = 0;
  let duplicated = 0;
  let feedItems = 0;
  let wrongFeedCounts = 0;
  const examples: string[] = [];
  await limited(users, conc, async (u) => {
    const items = await readFeed(u);
    feedItems += items.length;
    const ids = items.map((i) => i.id);
    const expected = new Set<string>(postsBy.get(u.id) ?? []);
    for (const a of follows.get(u.id)!) for (const p of postsBy.get(a) ?? []) expected.add(p);
    const got = new Set(ids);
    const dup = ids.length - got.size;
    const miss = [...expected].filter((p) => !got.has(p));
    const ext = [...got].filter((p) => !expected.has(p));
    duplicated += dup;
    missing += miss.length;
    extra += ext.length;
    if ((dup || miss.length || ext.length) && examples.length < 3)
      examples.push(`reader ${u.id}: ${miss.length} missing, ${ext.length} extra, ${dup} repeated`);
    for (const i of items) if (likeCount.has(i.id) && i.like_count !== likeCount.get(i.id)) wrongFeedCounts++;
  });
  check(
    "every post in its author's and every follower's feed exactly once, and nowhere else",
    missing === 0 && extra === 0 && duplicated === 0,
    `${feedItems} items read in pages of 7 over ${n} feeds; ${missing} missing, ${extra} extra, ${duplicated} repeated${examples.length ? ` (${examples.join("; ")})` : ""}`,
  );

  const rows = await likeRowCounts(
    o.sql,
    posts.map((p) => p.id),
  );
  let wrongApi = 0;
  let wrongRows = 0;
  await limited(posts, conc, async (p) => {
    const r = await call(o.apiB, users[0]!.token, "GET", `/posts/${p.id}`);
    expectStatus(r, [200], "GET /posts/{id}");
    if (r.body.like_count !== likeCount.get(p.id)) wrongApi++;
    if ((rows.get(p.id) ?? 0) !== likeCount.get(p.id)) wrongRows++;
  });
  check(
    "like counts equal the likes rows and the likes sent",
    wrongApi === 0 && wrongRows === 0 && wrongFeedCounts === 0,
    `${liked.size} likes on ${posts.length} posts; ${wrongRows} posts whose likes rows differ from what was sent, ${wrongApi} whose GET /posts/{id} count differs, ${wrongFeedCounts} feed items with a wrong count`,
  );

  const followers = new Map<string, number>(users.map((u) => [u.id, 0]));
  for (const set of follows.values()) for (const v of set) followers.set(v, followers.get(v)! + 1);
  let wrongProfiles = 0;
  await limited(users, conc, async (u) => {
    const r = await call(o.apiB, u.token, "GET", `/users/${u.id}`);
    expectStatus(r, [200], "GET /users/{id}");
    const b = r.body;
    if (
      Number(b.followers_count) !== followers.get(u.id) ||
      Number(b.following_count) !== follows.get(u.id)!.size ||
      Number(b.posts_count) !== (postsBy.get(u.id)?.length ?? 0)
    )
      wrongProfiles++;
  });
  check(
    "profile counters equal the final graph",
    wrongProfiles === 0,
    `${n} profiles, ${wrongProfiles} with a wrong followers, following or posts count`,
  );

  const backlog = await backlogOf(o.redis, o.sql, partitions);
  check(
    "nothing pending in any consumer group; no fan-out job left",
    backlog.undelivered === 0 &&
      backlog.pending === 0 &&
      backlog.fanoutJobs === 0 &&
      backlog.groups.length > 0,
    `groups ${backlog.groups.join(", ")} over ${partitions} partitions: ${backlog.undelivered} undelivered, ${backlog.pending} pending; ${backlog.fanoutJobs} fan-out jobs`,
  );
  const dlq = await o.redis.xlen(keys.dlq);
  check("dead-letter stream empty", dlq === 0, `${keys.dlq}: ${dlq} entries`);

  const handled = (await Promise.all(o.projectors.map(handledEvents))).map((v, i) => v - handledBefore[i]!);
  check(
    "every projector handled events",
    handled.every((h) => h > 0),
    `events handled per projector: ${handled.join(", ")}`,
  );

  if (isCluster(o.redis)) {
    const masters = o.redis.nodes("master");
    const sizes = await Promise.all(masters.map((m) => m.dbsize()));
    check(
      "keys on every master",
      sizes.length >= 2 && sizes.every((s) => s > 0),
      `keys per master: ${sizes.join(", ")}`,
    );
    const sample = [
      keys.stream(0),
      keys.feedHead(users[1]!.id),
      keys.post(posts[0]!.id),
      keys.user(users[2]!.id),
      keys.dlq,
      "foo{}{bar}",
    ];
    const server = await Promise.all(sample.map((k) => o.redis.call("cluster", "keyslot", k)));
    const differ = sample.filter((k, i) => Number(server[i]) !== slotOf(k));
    check(
      "slotOf agrees with CLUSTER KEYSLOT",
      differ.length === 0,
      differ.length ? `differs on ${differ.join(", ")}` : `${sample.length} keys`,
    );
  }

  return {
    ok: checks.every((c) => c.ok),
    checks,
    counts: {
      users: n,
      follows: [...follows.values()].reduce((s, f) => s + f.size, 0),
      unfollows: unfollows.length,
      posts: posts.length,
      likes: liked.size,
      feed_items_read: feedItems,
    },
    elapsedMs: Date.now() - started,
  };
}
