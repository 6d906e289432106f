import { composeId, ID_EPOCH_MS, LOGICAL_SHARDS } from "../../core/ids.ts";
import { rng } from "../lib/prng.ts";

// The synthetic social graph the seeder loads: pure and deterministic from one seed, so a rerun
// (or a resumed run) produces exactly the same rows, and tests can check its shape cheaply.

export interface SeedParams {
  users: number;
  seed: number;
  /** Mean follows per user (out-degree). */
  followsMean: number;
  /** Mean posts per user; authorship is skewed (a few people write most posts). */
  postsMean: number;
  /** Mean likes given per user. */
  likesMean: number;
  /** Share of users whose feeds are materialized (the recently active ones). */
  activeShare: number;
  /** In-degree exponent of the follow graph (≈ 2.2 for real social networks). */
  gamma: number;
  /** Posts are spread over the 30 days before this instant (ms since the Unix epoch). */
  asOfMs: number;
  /** Authors with more followers than this are pulled at read time, not pushed into feeds. */
  pullThreshold: number;
  /** Feed rows kept per user (FEED_MAX_ITEMS). */
  feedMaxItems: number;
}

export const LIMITS = {
  users: [100, 20_000_000],
  followsMean: [1, 1000],
  postsMean: [0, 100],
  likesMean: [0, 1000],
  activeShare: [0, 1],
  gamma: [1.5, 4],
} as const;

/** Refuses nonsense sizes with a message that names the option; returns null when fine. */
export function checkParams(p: SeedParams): string | null {
  for (const [name, [min, max]] of Object.entries(LIMITS)) {
    const v = p[name as keyof typeof LIMITS];
    if (!Number.isFinite(v) || v < min || v > max)
      return `--${kebab(name)} must be between ${min} and ${max}, got ${v}`;
  }
  if (!Number.isInteger(p.users)) return `--users must be a whole number, got ${p.users}`;
  if (p.followsMean >= p.users / 2)
    return `--follows-mean ${p.followsMean} is too high for ${p.users} users (at most ${Math.floor(p.users / 2) - 1})`;
  if (!Number.isInteger(p.seed) || p.seed < 0 || p.seed > 2 ** 31)
    return `--seed must be a whole number ≥ 0, got ${p.seed}`;
  return null;
}

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * Samples ranks 0..n-1 with P(r) ∝ (r+1)^-a (continuous inverse CDF, a ≠ 1). A rank-frequency
 * exponent a gives a degree distribution with tail exponent γ = 1 + 1/a.
 */
export function zipfSampler(n: number, a: number): (u: number) => number {
  const e = 1 - a;
  const top = (n + 1) ** e - 1;
  return (u) => Math.min(n - 1, Math.floor((1 + u * top) ** (1 / e)) - 1);
}

/** Geometric-ish count with the given mean (at least 0); heavy enough tail for "a few write a lot". */
function countWithMean(mean: number, u: number): number {
  if (mean <= 0) return 0;
  // Exponential with the given mean, rounded: most users near the mean, some far above.
  return Math.floor(-Math.log(1 - u) * mean + 0.5);
}

/** A bijection of 0..n-1 (r·A + B mod n) that scatters ranks, so popular users are not users 0, 1, 2… */
export function scatter(n: number, seed: number): (r: number) => number {
  let a = 2_654_435_761 % n;
  const gcd = (x: number, y: number): number => (y === 0 ? x : gcd(y, x % y));
  while (a < 2 || gcd(a, n) !== 1) a = (a + 1) % n;
  const b = (seed * 7919) % n;
  // r·a < 20M² = 4e14, well inside a double's exact integers.
  return (r) => (r * a + b) % n;
}

// ------------------------------------------------------------------------------- users

/** Seeded users' ids: the first N milliseconds after the id epoch, which no live user can have. */
export function userId(index: number): bigint {
  return composeId(ID_EPOCH_MS + 1 + index, index % LOGICAL_SHARDS, 0);
}
export const userShard = (index: number) => index % LOGICAL_SHARDS;
export const handleOf = (index: number) => `s_${index}`;

/** The id range every seeded user falls in (for cleanup on restart). */
export function userIdRange(users: number): [bigint, bigint] {
  return [userId(0), userId(users - 1)];
}

// ----------------------------------------------------------------------------- follows

/**
 * Every user's followees as one CSR structure (offsets into a flat Int32Array of user indexes):
 * out-degree exponential with the mean, followees drawn from a Zipf over popularity ranks that
 * gives in-degrees a power-law tail with exponent gamma. No self-follows, no duplicates.
 */
export function followGraph(p: SeedParams): { offsets: Int32Array; targets: Int32Array } {
  const r = rng(p.seed, 1);
  const n = p.users;
  const popularity = zipfSampler(n, 1 / (p.gamma - 1));
  const rankToUser = scatter(n, p.seed);
  // Rank → user once, as a table: the sampler is called ~50 times per user.
  const byRank = new Int32Array(n);
  for (let k = 0; k < n; k++) byRank[k] = rankToUser(k);
  const offsets = new Int32Array(n + 1);
  let targets = new Int32Array(Math.ceil(n * p.followsMean * 1.1) + 16);
  let len = 0;
  const seen = new Set<number>();
  const maxOut = Math.min(n - 1, Math.max(1, Math.floor(p.followsMean * 20)));
  for (let u = 0; u < n; u++) {
    offsets[u] = len;
    const want = Math.min(maxOut, Math.max(1, countWithMean(p.followsMean, r())));
    seen.clear();
    let tries = 0;
    while (seen.size < want && tries < want * 20) {
      tries++;
      const v = byRank[popularity(r())]!;
      if (v === u || seen.has(v)) continue;
      seen.add(v);
      if (len === targets.length) {
        const bigger = new Int32Array(Math.ceil(targets.length * 1.5));
        bigger.set(targets);
        targets = bigger;
      }
      targets[len++] = v;
    }
  }
  offsets[n] = len;
  return { offsets, targets: targets.subarray(0, len) };
}

export function inDegrees(n: number, targets: Int32Array): Int32Array {
  const deg = new Int32Array(n);
  for (let i = 0; i < targets.length; i++) deg[targets[i]!]!++;
  return deg;
}

// ------------------------------------------------------------------------------- posts

const WORDS = (
  "the a to of and in is it you that for on was with he as i his they be at one have this from " +
  "or had by hot word but what some we can out other were all there when up use your how said an " +
  "each she which do their time if will way about many then them write would like so these her long " +
  "make thing see him two has look more day could go come did number sound no most people my over " +
  "know water than call first who may down side been now find coffee morning train city weekend " +
  "release deploy postgres redis feed launch music game photo sunset trip book movie team match"
).split(" ");

/** Post text with a realistic length: most a sentence or two, a long tail up to 280 characters. */
export function postText(u: () => number): string {
  const target = Math.min(280, Math.max(3, Math.floor(Math.exp(3.6 + 0.8 * gaussian(u)))));
  let s = "";
  while (s.length < target) s += (s ? " " : "") + WORDS[Math.floor(u() * WORDS.length)];
  return s.slice(0, target).trimEnd() || "hi";
}

function gaussian(u: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

export interface Posts {
  /** Author index of each post, in time order. */
  author: Int32Array;
  /** Milliseconds of each post (ascending). */
  ms: Float64Array;
}

/**
 * Posts in time order over the 30 days before asOf; authors drawn from a skewed distribution
 * (scattered independently of popularity). Two posts may share a millisecond; the id's sequence
 * (the post's index mod 1024) keeps ids unique.
 */
export function postSchedule(p: SeedParams): Posts {
  const r = rng(p.seed, 2);
  const total = Math.round(p.users * p.postsMean);
  const pick = zipfSampler(p.users, 0.6);
  const toUser = scatter(p.users, p.seed + 1);
  const author = new Int32Array(total);
  const ms = new Float64Array(total);
  const span = 30 * 86_400_000;
  const start = p.asOfMs - span;
  for (let j = 0; j < total; j++) {
    author[j] = toUser(pick(r()));
    ms[j] = start + Math.floor((j * span) / Math.max(1, total));
  }
  return { author, ms };
}

export function postId(posts: Posts, j: number): bigint {
  return composeId(posts.ms[j]!, userShard(posts.author[j]!), j % 1024);
}

// ------------------------------------------------------------------------------- likes

/** For user u, the indexes of the posts they like: skewed towards a popular few, no repeats. */
export function likesOf(p: SeedParams, postsTotal: number): (u: number, r: () => number) => number[] {
  if (postsTotal === 0 || p.likesMean <= 0) return () => [];
  const pick = zipfSampler(postsTotal, 0.7);
  const toPost = scatter(postsTotal, p.seed + 2);
  return (_u, r) => {
    const want = Math.min(postsTotal, countWithMean(p.likesMean, r()));
    const seen = new Set<number>();
    for (let tries = 0; seen.size < want && tries < want * 20; tries++) seen.add(toPost(pick(r())));
    return [...seen];
  };
}

// ------------------------------------------------------------------------------- feeds

/** Whether a user's feed is materialized: the active share, chosen by a hash of the index. */
export function isActive(p: SeedParams, u: number): boolean {
  return (Math.imul(u ^ p.seed, 0x9e3779b1) >>> 0) / 4294967296 < p.activeShare;
}
