import { describe, expect, test } from "bun:test";
import { plateauVerdicts, type Sample } from "./soak.ts";

const flat = (i: number): Sample => ({
  t: i * 10,
  apiMiB: 120 + (i % 3),
  projectorMiB: 95,
  redisRssMiB: 13,
  postgresMiB: 150,
  pgConnections: 16,
  redisUsedMiB: 2,
  redisKeys: 500,
  pel: i % 5,
  backlog: 0,
  rps: 100,
  errors: 0,
  p99ms: 12,
});

describe("plateauVerdicts", () => {
  test("a steady run plateaus on every metric", () => {
    const v = plateauVerdicts(Array.from({ length: 60 }, (_, i) => flat(i)));
    expect(v.filter((x) => !x.ok)).toEqual([]);
    expect(v.map((x) => x.metric)).toContain("PostgreSQL client connections");
  });

  test("a leak, a connection leak and a growing PEL are each called out; the warm-up is not", () => {
    const samples = Array.from({ length: 60 }, (_, i) => ({
      ...flat(i),
      // Warm-up growth in the first fifth is ignored.
      projectorMiB: i < 12 ? 40 + i * 5 : 95,
      apiMiB: 100 + i * 2,
      pgConnections: 10 + Math.floor(i / 5),
      pel: i * 10,
    }));
    const failed = plateauVerdicts(samples)
      .filter((x) => !x.ok)
      .map((x) => x.metric);
    expect(failed).toEqual(["api RSS (MiB)", "PostgreSQL client connections", "pending entries (PEL)"]);
  });
});
