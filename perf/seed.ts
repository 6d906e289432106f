// The seeder: `./dev seed [--users N] [--seed S] …` (README "Seeding"). Loads a deterministic
// synthetic network — users, a power-law follow graph, posts, likes, stats and the materialized
// feeds of the active share — with COPY, keys and indexes dropped first and rebuilt afterwards.
// Resumable phase by phase (seed_runs); a rerun with the same parameters continues where the
// last one stopped, without duplicates.

import { parseArgs } from "node:util";
import { loadConfigOrExit } from "../core/config.ts";
import { timestampOf } from "../core/ids.ts";
import { createSql, type Sql } from "../db/client.ts";
import { migrate } from "../db/migrate.ts";
import { rng } from "./lib/prng.ts";
import {
  checkParams,
  followGraph,
  handleOf,
  inDegrees,
  isActive,
  likesOf,
  type Posts,
  postId,
  postSchedule,
  postText,
  type SeedParams,
  userId,
  userIdRange,
  userShard,
} from "./seed/model.ts";
import * as db from "./seed/sql.ts";

const USAGE = `usage: ./dev seed [--users N] [--seed S] [--follows-mean F] [--posts-mean P] [--likes-mean L]
                 [--active-share S] [--gamma G] [--as-of ISO-DATE] [--restart] [--keep-indexes]
  --users N         users to create (default 1000000; 100 … 20000000)
  --seed S          PRNG seed: the same seed and sizes give the same rows (default 42)
  --restart         delete a previous seed (any parameters) and start over
  --keep-indexes    load with keys and indexes in place (slower; for a database in use)
  --if-absent       keep a complete seed of at least --users users that is already there
                    (./dev test: a developer's million-user seed is not replaced by 10 000)`;

const TABLES = ["follows", "likes", "posts", "post_stats", "user_feed", "user_stats"];
const PHASES = ["users", "follows", "posts", "likes", "stats", "feeds"] as const;
type Phase = (typeof PHASES)[number];

function fail(message: string): never {
  process.stderr.write(`seed: ${message}\n`);
  process.exit(2);
}

function parse(argv: string[], config: ReturnType<typeof loadConfigOrExit>) {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        users: { type: "string", default: "1000000" },
        seed: { type: "string", default: "42" },
        "follows-mean": { type: "string", default: "50" },
        "posts-mean": { type: "string", default: "2" },
        "likes-mean": { type: "string", default: "5" },
        "active-share": { type: "string", default: "0.1" },
        gamma: { type: "string", default: "2.2" },
        "as-of": { type: "string", default: "2026-11-01T00:00:00Z" },
        restart: { type: "boolean", default: false },
        "keep-indexes": { type: "boolean", default: false },
        "if-absent": { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    }));
  } catch (e) {
    fail(`${(e as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const num = (name: string) => {
    const raw = String(values[name]).replaceAll("_", "");
    const v = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(v)) fail(`--${name} must be a number, got "${values[name]}"`);
    return v;
  };
  const asOfMs = Date.parse(String(values["as-of"]));
  if (!Number.isFinite(asOfMs)) fail(`--as-of must be an ISO date, got "${values["as-of"]}"`);
  const params: SeedParams = {
    users: num("users"),
    seed: num("seed"),
    followsMean: num("follows-mean"),
    postsMean: num("posts-mean"),
    likesMean: num("likes-mean"),
    activeShare: num("active-share"),
    gamma: num("gamma"),
    asOfMs,
    pullThreshold: config.FANOUT_PULL_THRESHOLD,
    feedMaxItems: config.FEED_MAX_ITEMS,
  };
  const problem = checkParams(params);
  if (problem) fail(problem);
  return {
    params,
    restart: Boolean(values.restart),
    keepIndexes: Boolean(values["keep-indexes"]),
    ifAbsent: Boolean(values["if-absent"]),
  };
}

// ------------------------------------------------------------------------------ progress

/** One line per phase: done/total, rate and ETA; redrawn in place on a terminal. */
class Progress {
  private done = 0;
  private last = 0;
  private readonly t0 = performance.now();
  constructor(
    private readonly label: string,
    private readonly total: number,
  ) {}
  add(n: number): void {
    this.done += n;
    const now = performance.now();
    if (now - this.last > (process.stderr.isTTY ? 250 : 5000)) {
      this.last = now;
      this.draw(false);
    }
  }
  finish(): { rows: number; seconds: number; rate: number } {
    this.draw(true);
    const seconds = (performance.now() - this.t0) / 1000;
    return { rows: this.done, seconds, rate: this.done / Math.max(seconds, 1e-9) };
  }
  private draw(final: boolean): void {
    const s = (performance.now() - this.t0) / 1000;
    const rate = this.done / Math.max(s, 1e-9);
    const share = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
    const width = 24;
    const bar = "█".repeat(Math.round(share * width)).padEnd(width, "·");
    const eta = final
      ? `${fmtTime(s)} total`
      : `ETA ${fmtTime((this.total - this.done) / Math.max(rate, 1))}`;
    const line = `${this.label.padEnd(8)} ${bar} ${fmtCount(this.done)}/${fmtCount(this.total)} ${fmtCount(rate)} rows/s ${eta}`;
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${line}${final ? "\n" : ""}`);
    else process.stderr.write(`${line}\n`);
  }
}

const fmtCount = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(0)}k` : `${Math.round(n)}`;
const fmtTime = (s: number) =>
  s >= 60 ? `${Math.floor(s / 60)}m${Math.round(s % 60)}s` : `${s.toFixed(1)}s`;

/** Groups lines into ~1 MB COPY chunks and counts them on the progress line. */
function* chunked(lines: Iterable<string>, progress: Progress): Generator<string> {
  let parts: string[] = [];
  let size = 0;
  for (const line of lines) {
    parts.push(line);
    size += line.length;
    if (size >= 1 << 20) {
      progress.add(parts.length);
      yield parts.join("");
      parts = [];
      size = 0;
    }
  }
  if (parts.length) {
    progress.add(parts.length);
    yield parts.join("");
  }
}

// ------------------------------------------------------------------------------ the run

interface Model {
  ids: string[];
  graph: { offsets: Int32Array; targets: Int32Array };
  followers: Int32Array;
  posts: Posts;
  postIds: string[];
}

function buildModel(p: SeedParams): Model {
  const t0 = performance.now();
  const ids = Array.from({ length: p.users }, (_, i) => userId(i).toString());
  const graph = followGraph(p);
  const followers = inDegrees(p.users, graph.targets);
  const posts = postSchedule(p);
  const postIds = Array.from({ length: posts.author.length }, (_, j) => postId(posts, j).toString());
  const top = [...followers].sort((a, b) => b - a).slice(0, 5);
  process.stderr.write(
    `model    ${fmtCount(p.users)} users, ${fmtCount(graph.targets.length)} follows ` +
      `(most followed: ${top.map(fmtCount).join(", ")}), ${fmtCount(postIds.length)} posts, ` +
      `built in ${fmtTime((performance.now() - t0) / 1000)}\n`,
  );
  return { ids, graph, followers, posts, postIds };
}

const iso = (ms: number) => new Date(ms).toISOString();

async function runPhase(
  sql: Sql,
  phase: Phase,
  p: SeedParams,
  m: Model,
): Promise<{ rows: number; seconds: number; rate: number }> {
  const n = p.users;
  switch (phase) {
    case "users": {
      const progress = new Progress("users", n);
      function* lines() {
        for (let i = 0; i < n; i++)
          yield `${m.ids[i]}\t${handleOf(i)}\tSeed user ${i}\t${iso(timestampOf(m.ids[i]!))}\tt\n`;
      }
      // seeded: the flag that lets the load-test signer serve these users, and only these.
      await db.copyInto(
        sql,
        "users",
        ["id", "handle", "display_name", "created_at", "seeded"],
        chunked(lines(), progress),
      );
      return progress.finish();
    }
    case "follows": {
      const { offsets, targets } = m.graph;
      const progress = new Progress("follows", targets.length);
      function* lines() {
        for (let u = 0; u < n; u++) {
          const from = m.ids[u];
          for (let k = offsets[u]!; k < offsets[u + 1]!; k++) yield `${from}\t${m.ids[targets[k]!]}\n`;
        }
      }
      await db.copyInto(sql, "follows", ["follower_id", "followee_id"], chunked(lines(), progress));
      return progress.finish();
    }
    case "posts": {
      const { author, ms } = m.posts;
      const progress = new Progress("posts", author.length);
      const r = rng(p.seed, 3);
      function* lines() {
        for (let j = 0; j < author.length; j++)
          yield `${userShard(author[j]!)}\t${m.postIds[j]}\t${m.ids[author[j]!]}\t${postText(r)}\t${iso(ms[j]!)}\n`;
      }
      await db.copyInto(
        sql,
        "posts",
        ["shard", "id", "author_id", "text", "created_at"],
        chunked(lines(), progress),
      );
      return progress.finish();
    }
    case "likes": {
      const likes = likesOf(p, m.postIds.length);
      const r = rng(p.seed, 4);
      const progress = new Progress("likes", Math.round(n * p.likesMean));
      function* lines() {
        for (let u = 0; u < n; u++) for (const j of likes(u, r)) yield `${m.ids[u]}\t${m.postIds[j]}\n`;
      }
      await db.copyInto(sql, "likes", ["user_id", "post_id"], chunked(lines(), progress));
      return progress.finish();
    }
    case "stats": {
      // Counts from the model, exactly what the projector would have produced event by event.
      const { author, ms } = m.posts;
      const postsBy = new Int32Array(n);
      for (let j = 0; j < author.length; j++) postsBy[author[j]!]!++;
      const likeCount = new Int32Array(author.length);
      const likes = likesOf(p, m.postIds.length);
      const r = rng(p.seed, 4);
      for (let u = 0; u < n; u++) for (const j of likes(u, r)) likeCount[j]!++;
      const progress = new Progress("stats", n + author.length);
      const { offsets } = m.graph;
      function* userLines() {
        for (let i = 0; i < n; i++)
          yield `${m.ids[i]}\t${m.followers[i]}\t${offsets[i + 1]! - offsets[i]!}\t${postsBy[i]}\n`;
      }
      function* postLines() {
        for (let j = 0; j < author.length; j++)
          yield `${userShard(author[j]!)}\t${m.postIds[j]}\t${likeCount[j]}\t${iso(ms[j]!)}\n`;
      }
      await db.copyInto(
        sql,
        "user_stats",
        ["user_id", "followers_count", "following_count", "posts_count"],
        chunked(userLines(), progress),
      );
      await db.copyInto(
        sql,
        "post_stats",
        ["shard", "post_id", "like_count", "post_created_at"],
        chunked(postLines(), progress),
      );
      return progress.finish();
    }
    case "feeds": {
      // The newest FEED_MAX_ITEMS posts of each active user's followees, as fan-out would have
      // pushed them; authors above the pull threshold are merged at read time instead.
      const { author, ms } = m.posts;
      const byAuthorStart = new Int32Array(n + 1);
      for (let j = 0; j < author.length; j++) byAuthorStart[author[j]! + 1]!++;
      for (let i = 0; i < n; i++) byAuthorStart[i + 1]! += byAuthorStart[i]!;
      const byAuthor = new Int32Array(author.length);
      const fill = byAuthorStart.slice(0, n);
      for (let j = 0; j < author.length; j++) byAuthor[fill[author[j]!]!++] = j; // ascending time
      const { offsets, targets } = m.graph;
      let active = 0;
      for (let u = 0; u < n; u++) if (isActive(p, u)) active++;
      const progress = new Progress("feeds", active);
      let rows = 0;
      function* lines() {
        const items: number[] = [];
        for (let u = 0; u < n; u++) {
          if (!isActive(p, u)) continue;
          items.length = 0;
          // Their own posts first (the app puts an author's posts in their own feed), then the
          // push authors they follow.
          for (let q = byAuthorStart[u]!; q < byAuthorStart[u + 1]!; q++) items.push(byAuthor[q]!);
          for (let k = offsets[u]!; k < offsets[u + 1]!; k++) {
            const a = targets[k]!;
            if (m.followers[a]! > p.pullThreshold) continue;
            for (let q = byAuthorStart[a]!; q < byAuthorStart[a + 1]!; q++) items.push(byAuthor[q]!);
          }
          items.sort((x, y) => y - x); // post index order is time order
          const keep = Math.min(items.length, p.feedMaxItems);
          rows += keep;
          let block = "";
          for (let i = 0; i < keep; i++) {
            const j = items[i]!;
            block += `${m.ids[u]}\t${m.postIds[j]}\t${m.ids[author[j]!]}\t${iso(ms[j]!)}\n`;
          }
          yield block;
        }
      }
      // The progress line counts active users here (one block each); the result counts rows.
      await db.copyInto(
        sql,
        "user_feed",
        ["user_id", "post_id", "author_id", "created_at"],
        chunked(lines(), progress),
      );
      const { seconds } = progress.finish();
      // When each user last read: the active share today, everyone else a month ago, so fan-out
      // skips them and their first read rebuilds their feed (relative to the real clock, unlike
      // the content, because fan-out compares with now()).
      const now = new Date().toISOString();
      const away = new Date(Date.now() - 30 * 86_400_000).toISOString();
      // The readers a month away are already swept (away): fan-out's active_follows holds the
      // follows of the others.
      function* readers() {
        for (let u = 0; u < n; u++) yield `${m.ids[u]}\t${isActive(p, u) ? `${now}\tf` : `${away}\tt`}\n`;
      }
      const readerProgress = new Progress("readers", n);
      await db.copyInto(
        sql,
        "feed_readers",
        ["user_id", "last_read_at", "away"],
        chunked(readers(), readerProgress),
      );
      readerProgress.finish();
      const [lo, hi] = userIdRange(p.users);
      await db.fillActiveFollows(sql, lo, hi);
      return { rows, seconds, rate: rows / Math.max(seconds, 1e-9) };
    }
  }
}

/** Removes whatever an interrupted phase wrote, so that redoing it cannot duplicate a row. */
async function cleanPhase(sql: Sql, phase: Phase, p: SeedParams): Promise<void> {
  const [lo, hi] = userIdRange(p.users);
  switch (phase) {
    case "users":
      await db.deleteRange(sql, "users", "id", lo, hi);
      break;
    case "follows":
      await db.deleteRange(sql, "follows", "follower_id", lo, hi);
      break;
    case "posts":
      await db.deleteRange(sql, "posts", "author_id", lo, hi);
      break;
    case "likes":
      await db.deleteRange(sql, "likes", "user_id", lo, hi);
      break;
    case "stats":
      await db.deleteRange(sql, "user_stats", "user_id", lo, hi);
      await db.deleteSeededPostStats(sql, lo, hi);
      break;
    case "feeds":
      await db.deleteRange(sql, "user_feed", "user_id", lo, hi);
      await db.deleteRange(sql, "feed_readers", "user_id", lo, hi);
      await db.deleteRange(sql, "active_follows", "follower_id", lo, hi);
      break;
  }
}

async function main() {
  const config = loadConfigOrExit();
  const { params, restart, keepIndexes, ifAbsent } = parse(process.argv.slice(2), config);
  const sql = createSql({ url: config.DATABASE_URL, max: 2 });
  await migrate(sql);
  const started = performance.now();

  // Whatever happens from here on, no index stays dropped: recreate on the way out, also on
  // Ctrl-C. (After a kill -9 the next run recreates them first.)
  let restoring = false;
  const restore = async () => {
    if (restoring) return;
    restoring = true;
    const n = await db.restoreIndexes(sql, (name, s) =>
      process.stderr.write(`index    ${name} rebuilt in ${fmtTime(s)}\n`),
    );
    if (n) process.stderr.write(`indexes  ${n} rebuilt\n`);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const)
    process.on(signal, async () => {
      process.stderr.write(`\nseed: ${signal}, rebuilding indexes before exit…\n`);
      // Abort the COPY in flight (its transaction rolls back; the phase stays "started" and is
      // cleaned up next time), then rebuild on a fresh connection: the old one holds locks.
      await sql.end({ timeout: 0 });
      const fresh = createSql({ url: config.DATABASE_URL, max: 1 });
      await db
        .restoreIndexes(fresh, (name) => process.stderr.write(`index    ${name} rebuilt\n`))
        .finally(() => fresh.end());
      process.exit(130);
    });

  try {
    await restore(); // a previous run that was killed outright
    restoring = false;
    let done = await db.phases(sql);
    const previous = [...done.values()][0];
    const complete = PHASES.every((ph) => done.get(ph)?.state === "done");
    const previousUsers = Number((previous?.params as { users?: number } | undefined)?.users ?? 0);
    if (ifAbsent && complete && previousUsers >= params.users) {
      console.log(`seed: keeping the existing complete seed of ${previousUsers} users (--if-absent)`);
      return;
    }
    // jsonb reorders keys: compare with the keys sorted.
    const canonical = (o: object) => JSON.stringify(o, Object.keys(o).sort());
    if (previous && canonical(previous.params) !== canonical(params) && !restart)
      fail(
        `this database holds a seed with other parameters (${JSON.stringify(previous.params)}); ` +
          "run with --restart to replace it",
      );
    if (restart && done.size > 0) {
      const old = previous!.params as unknown as SeedParams;
      process.stderr.write(`restart  removing the previous seed (${old.users} users)\n`);
      for (const phase of [...PHASES].reverse()) await cleanPhase(sql, phase, old);
      await db.forgetPhases(sql);
      done = new Map();
    }
    const todo = PHASES.filter((ph) => done.get(ph)?.state !== "done");
    if (todo.length === 0) {
      console.log(`seed: already complete for these parameters (${params.users} users); --restart to redo`);
      return;
    }

    const model = buildModel(params);
    const sample = Array.from(
      { length: 20_000 },
      (_, i) => `${model.ids[i % params.users]}\t${model.ids[(i * 7) % params.users]}\n`,
    );
    const baseline = await db.rawCopyRate(
      sql,
      sample,
      Math.max(5, Math.ceil(Math.min(model.graph.targets.length, 2_000_000) / sample.length)),
    );
    process.stderr.write(
      `baseline raw COPY ${fmtCount(baseline)} rows/s (two bigints into a plain unindexed table, this run)\n`,
    );

    const indexesBefore = await db.indexCount(sql, TABLES);
    if (!keepIndexes) {
      const n = await db.dropIndexes(sql, TABLES);
      process.stderr.write(`indexes  ${n} dropped for the load (recorded in seed_dropped_indexes)\n`);
    }
    const results: Record<string, { rows: number; seconds: number; rate: number }> = {};
    for (const phase of todo) {
      if (done.get(phase)?.state === "started") await cleanPhase(sql, phase, params);
      await db.markPhase(sql, phase, params, "started");
      results[phase] = await runPhase(sql, phase, params, model);
      await db.markPhase(sql, phase, params, "done", results[phase]!.rows, results[phase]!.seconds);
    }
    const ti = performance.now();
    await restore();
    const indexSeconds = (performance.now() - ti) / 1000;
    const invalid = await db.invalidIndexes(sql, TABLES);
    const indexesAfter = await db.indexCount(sql, TABLES);
    if (invalid.length || indexesAfter !== indexesBefore)
      fail(
        `indexes not restored as they were: ${indexesBefore} before, ${indexesAfter} after, invalid: ${invalid.join(", ") || "none"}`,
      );
    await db.analyze(sql, ["users", ...TABLES]);

    const total = (performance.now() - started) / 1000;
    const follows = results.follows;
    console.log(
      [
        `seed: ${params.users} users (seed ${params.seed}) in ${fmtTime(total)}; indexes rebuilt in ${fmtTime(indexSeconds)}`,
        ...Object.entries(results).map(
          ([k, v]) =>
            `  ${k.padEnd(8)} ${String(v.rows).padStart(10)} rows  ${fmtTime(v.seconds).padStart(7)}  ${fmtCount(v.rate)} rows/s`,
        ),
        `  raw COPY baseline ${fmtCount(baseline)} rows/s` +
          (follows ? `; follows loaded at ${((follows.rate / baseline) * 100).toFixed(0)}% of it` : ""),
      ].join("\n"),
    );
  } finally {
    await restore();
    await sql.end();
  }
}

await main();
