// The hot-author guard, measured: fan-out lag of ordinary authors' posts (time until
// the post is in an active follower's user_feed) alone, then while one hot author (thousands of
// followers, below the pull threshold) posts several times a second. The guard holds when the
// second p50/p99 are at most 2× the first. Needs the seeded database (./dev seed) and the
// stack (./dev up); loopback only, bounded in time.
import { loadConfigOrExit } from "../core/config.ts";
import { signAccessToken } from "../core/tokens.ts";
import { createSql } from "../db/client.ts";

const config = loadConfigOrExit();
const base = `http://127.0.0.1:${config.PORT}`;
const sql = createSql({ url: config.DATABASE_URL, max: 4 });
const SECONDS = Number(process.env.GUARD_SECONDS ?? 15);

// Ordinary authors (5–200 followers) with a follower who reads (so fan-out writes their row).
const small = await sql<{ author: string; reader: string }[]>`
  SELECT DISTINCT ON (s.user_id) s.user_id::text AS author, f.follower_id::text AS reader
  FROM user_stats s JOIN follows f ON f.followee_id = s.user_id
  JOIN feed_readers r ON r.user_id = f.follower_id AND r.last_read_at > now() - interval '1 day'
  WHERE s.followers_count BETWEEN 5 AND 200 AND s.user_id < 4611686018427387904
  LIMIT 200`;
const [hot] = await sql<{ author: string; n: number }[]>`
  SELECT user_id::text AS author, followers_count::int AS n FROM user_stats
  WHERE followers_count BETWEEN ${config.FANOUT_INLINE_MAX + 1} AND ${config.FANOUT_PULL_THRESHOLD}
  ORDER BY followers_count DESC LIMIT 1`;
if (small.length < 20 || !hot) throw new Error("needs the seeded database: ./dev seed");

const token = async (id: string) => (await signAccessToken(config, id)).token;
async function post(authorToken: string, text: string): Promise<string> {
  const r = await fetch(`${base}/posts`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${authorToken}`,
      "content-type": "application/json",
      "idempotency-key": crypto.randomUUID(),
    },
    body: JSON.stringify({ text }),
  });
  if (r.status !== 201) throw new Error(`POST /posts ${r.status}: ${await r.text()}`);
  return ((await r.json()) as { id: string }).id;
}

/** Posts by ordinary authors every 100 ms for `seconds`; each one's time until it is in the reader's feed. */
async function ordinaryLags(seconds: number): Promise<number[]> {
  const tokens = await Promise.all(small.map((s) => token(s.author)));
  const lags: Promise<number>[] = [];
  const end = Date.now() + seconds * 1000;
  for (let i = 0; Date.now() < end; i++) {
    const k = i % small.length;
    const t0 = performance.now();
    const id = await post(tokens[k]!, `ordinary ${i}`);
    lags.push(
      (async () => {
        for (;;) {
          const [row] =
            await sql`SELECT 1 AS ok FROM user_feed WHERE user_id = ${small[k]!.reader} AND post_id = ${id}`;
          if (row) return performance.now() - t0;
          if (performance.now() - t0 > 60_000) return Number.POSITIVE_INFINITY;
          await Bun.sleep(10);
        }
      })(),
    );
    await Bun.sleep(100);
  }
  return Promise.all(lags);
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const show = (name: string, xs: number[]) =>
  `${name.padEnd(34)} n=${xs.length}  p50 ${pct(xs, 50).toFixed(0)} ms  p99 ${pct(xs, 99).toFixed(0)} ms`;

const alone = await ordinaryLags(SECONDS);
console.log(show("ordinary posts, alone", alone));

// The hot author posts 5 times a second meanwhile: far more fan-out than the lane can finish.
const hotToken = await token(hot.author);
let hotPosts = 0;
let stop = false;
const hotLoop = (async () => {
  while (!stop) {
    await post(hotToken, `hot ${hotPosts++}`);
    await Bun.sleep(200);
  }
})();
const withHot = await ordinaryLags(SECONDS);
stop = true;
await hotLoop;
console.log(show(`ordinary posts, hot author posting`, withHot));
console.log(`hot author: ${hot.n} followers, ${hotPosts} posts in ${SECONDS} s`);
const r50 = pct(withHot, 50) / pct(alone, 50);
const r99 = pct(withHot, 99) / pct(alone, 99);
console.log(
  `slow-down: p50 ${r50.toFixed(2)}×, p99 ${r99.toFixed(2)}× (goal ≤ 2×) → ${r50 <= 2 && r99 <= 2 ? "met" : "missed"}`,
);
// Let the lane finish the hot author's posts before leaving (bounded).
for (let i = 0; i < 600; i++) {
  const [r] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM fanout_jobs`;
  if (r!.n === 0) break;
  await Bun.sleep(100);
}
await sql.end();
