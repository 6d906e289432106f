import { describe, expect, test } from "bun:test";
import { backoffMs, compareStreamIds as compareIds } from "./consumer.ts";

describe("retry backoff", () => {
  test("backoff grows exponentially with jitter and stays under its cap", () => {
    for (let d = 1; d <= 10; d++) {
      const ceiling = Math.min(1000, 10 * 2 ** (d - 1));
      for (let i = 0; i < 20; i++) {
        const ms = backoffMs(d, 10, 1000);
        expect(ms).toBeGreaterThanOrEqual(ceiling / 2);
        expect(ms).toBeLessThanOrEqual(ceiling);
      }
    }
  });
});

describe("stream id order", () => {
  test("compares by milliseconds, then sequence, as integers", () => {
    expect(compareIds("1-0", "2-0")).toBe(-1);
    expect(compareIds("10-0", "9-5")).toBe(1);
    expect(compareIds("5-10", "5-9")).toBe(1);
    expect(compareIds("5-3", "5-3")).toBe(0);
    expect(["3-1", "1726000000000-2", "20-0", "1726000000000-10"].sort(compareIds)).toEqual([
      "3-1",
      "20-0",
      "1726000000000-2",
      "1726000000000-10",
    ]);
  });
});
