import { describe, expect, test } from "bun:test";
import { composeId } from "../../core/ids.ts";
import { fanOutMode, fanOutPath, shouldTrim } from "./post-created.ts";

describe("PostCreated decisions", () => {
  test("push below or at the threshold, pull above it", () => {
    expect(fanOutMode(0, 10_000)).toBe("push");
    expect(fanOutMode(10_000, 10_000)).toBe("push");
    expect(fanOutMode(10_001, 10_000)).toBe("pull");
  });

  test("the lane takes posts by the rows they write (active followers), not by all followers", () => {
    const config = { FANOUT_PULL_THRESHOLD: 10_000, FANOUT_INLINE_MAX: 1_000 };
    expect(fanOutPath({ followers: 9_000, active: 900 }, config)).toBe("inline");
    expect(fanOutPath({ followers: 9_000, active: 1_001 }, config)).toBe("lane");
    expect(fanOutPath({ followers: 10_001, active: 5 }, config)).toBe("pull");
  });

  test("every reader–author pair is trimmed about once in sixteen posts", () => {
    const reader = "251877496099594703";
    let trims = 0;
    // Posts as they come: irregular gaps in time and sequence numbers (xorshift32 from a fixed
    // seed, so the test is deterministic; evenly spaced ids would hit only some residues).
    let x = 2463534242;
    const next = () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return x >>> 0;
    };
    let ms = Date.parse("2026-11-01T00:00:00Z");
    for (let i = 0; i < 1600; i++) {
      ms += 1 + (next() % 5000);
      const post = composeId(ms, 42, next() % 1024).toString();
      if (shouldTrim(reader, post)) trims++;
    }
    expect(trims).toBeGreaterThan(50);
    expect(trims).toBeLessThan(150);
  });

  test("about one delivery in sixteen trims the reader's feed, deterministically", () => {
    const post = composeId(Date.now(), 7, 3).toString();
    let trims = 0;
    for (let u = 1; u <= 1600; u++) {
      const a = shouldTrim(String(u), post);
      expect(shouldTrim(String(u), post)).toBe(a);
      if (a) trims++;
    }
    expect(trims).toBe(100);
  });
});
