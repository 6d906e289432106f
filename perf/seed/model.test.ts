import { describe, expect, test } from "bun:test";
import { shardOf, timestampOf } from "../../core/ids.ts";
import { rng } from "../lib/prng.ts";
import {
  checkParams,
  followGraph,
  handleOf,
  inDegrees,
  isActive,
  likesOf,
  postId,
  postSchedule,
  postText,
  type SeedParams,
  scatter,
  userId,
  zipfSampler,
} from "./model.ts";

const params = (over: Partial<SeedParams> = {}): SeedParams => ({
  users: 20_000,
  seed: 7,
  followsMean: 50,
  postsMean: 2,
  likesMean: 5,
  activeShare: 0.1,
  gamma: 2.2,
  asOfMs: Date.parse("2026-11-01T00:00:00Z"),
  pullThreshold: 10_000,
  feedMaxItems: 1000,
  ...over,
});

describe("seed parameters", () => {
  test("nonsense sizes are refused with the option named", () => {
    expect(checkParams(params())).toBeNull();
    expect(checkParams(params({ users: 5 }))).toContain("--users must be between 100 and 20000000");
    expect(checkParams(params({ users: 1e9 }))).toContain("--users");
    expect(checkParams(params({ users: 1000.5 }))).toContain("whole number");
    expect(checkParams(params({ users: Number.NaN }))).toContain("--users");
    expect(checkParams(params({ followsMean: -1 }))).toContain("--follows-mean");
    expect(checkParams(params({ users: 100, followsMean: 60 }))).toContain("too high");
    expect(checkParams(params({ activeShare: 1.5 }))).toContain("--active-share");
    expect(checkParams(params({ gamma: 1 }))).toContain("--gamma");
  });
});

describe("the synthetic network", () => {
  test("is deterministic from the seed and differs across seeds", () => {
    const a = followGraph(params({ users: 2000 }));
    const b = followGraph(params({ users: 2000 }));
    const c = followGraph(params({ users: 2000, seed: 8 }));
    expect(Buffer.from(a.targets.buffer).equals(Buffer.from(b.targets.buffer))).toBe(true);
    expect(Buffer.from(a.targets.buffer).equals(Buffer.from(c.targets.buffer))).toBe(false);
  });

  test("follows: no self-follow, no duplicate, mean near the target, power-law in-degrees", () => {
    const p = params();
    const { offsets, targets } = followGraph(p);
    for (let u = 0; u < p.users; u++) {
      const mine = targets.subarray(offsets[u], offsets[u + 1]);
      expect(mine.includes(u)).toBe(false);
      expect(new Set(mine).size).toBe(mine.length);
    }
    const mean = targets.length / p.users;
    expect(mean).toBeGreaterThan(45);
    expect(mean).toBeLessThan(55);
    // P(in-degree ≥ k) ∝ k^-(γ-1): from k = 20 to k = 200 it should fall by about 10^1.2 ≈ 16.
    const deg = inDegrees(p.users, targets);
    const atLeast = (k: number) => deg.filter((d) => d >= k).length;
    const fall = atLeast(20) / atLeast(200);
    expect(fall).toBeGreaterThan(8);
    expect(fall).toBeLessThan(32);
    // A handful of accounts hold a large share: the most followed has far more than the mean.
    expect(Math.max(...deg)).toBeGreaterThan(50 * mean);
  });

  test("zipf ranks stay in range and favour low ranks", () => {
    const z = zipfSampler(1000, 0.8);
    const r = rng(1, 1);
    const hits = new Int32Array(1000);
    for (let i = 0; i < 100_000; i++) hits[z(r())]!++;
    expect(Math.min(...Array.from(hits.keys()).filter((k) => hits[k]! > 0))).toBe(0);
    expect(hits[0]!).toBeGreaterThan(hits[999]! * 50);
  });

  test("scatter is a bijection", () => {
    const f = scatter(1000, 3);
    expect(new Set(Array.from({ length: 1000 }, (_, i) => f(i))).size).toBe(1000);
  });

  test("user ids sit in the first milliseconds after the id epoch, one shard each", () => {
    expect(userId(0) < userId(1)).toBe(true);
    expect(shardOf(userId(4097))).toBe(1);
    expect(timestampOf(userId(999_999))).toBeLessThan(Date.parse("2025-01-01T00:17:00Z"));
    expect(handleOf(12)).toBe("s_12");
  });

  test("posts: unique ids on the author's shard, in time order within 30 days", () => {
    const p = params();
    const posts = postSchedule(p);
    expect(posts.author.length).toBe(40_000);
    const ids = new Set<bigint>();
    for (let j = 0; j < posts.author.length; j++) {
      const id = postId(posts, j);
      ids.add(id);
      expect(shardOf(id)).toBe(posts.author[j]! % 4096);
      if (j > 0) expect(posts.ms[j]!).toBeGreaterThanOrEqual(posts.ms[j - 1]!);
    }
    expect(ids.size).toBe(posts.author.length);
    expect(posts.ms[0]!).toBeGreaterThanOrEqual(p.asOfMs - 30 * 86_400_000);
    expect(posts.ms.at(-1)!).toBeLessThan(p.asOfMs);
  });

  test("post text: 1–280 characters, short ones common, long ones present", () => {
    const r = rng(1, 9);
    const lengths = Array.from({ length: 5000 }, () => postText(r).length);
    expect(Math.min(...lengths)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(280);
    const median = lengths.sort((a, b) => a - b)[2500]!;
    expect(median).toBeGreaterThan(20);
    expect(median).toBeLessThan(80);
    expect(lengths.filter((l) => l > 150).length).toBeGreaterThan(50);
  });

  test("likes: no repeats per user, roughly the mean, skewed to popular posts", () => {
    const p = params({ users: 2000 });
    const likes = likesOf(p, 4000);
    const r = rng(p.seed, 4);
    const count = new Int32Array(4000);
    let total = 0;
    for (let u = 0; u < p.users; u++) {
      const mine = likes(u, r);
      expect(new Set(mine).size).toBe(mine.length);
      total += mine.length;
      for (const j of mine) count[j]!++;
    }
    expect(total / p.users).toBeGreaterThan(4);
    expect(total / p.users).toBeLessThan(6);
    expect(Math.max(...count)).toBeGreaterThan(20 * (total / 4000));
  });

  test("the active share is close to the requested one", () => {
    const p = params();
    let n = 0;
    for (let u = 0; u < p.users; u++) if (isActive(p, u)) n++;
    expect(n / p.users).toBeGreaterThan(0.08);
    expect(n / p.users).toBeLessThan(0.12);
  });
});
