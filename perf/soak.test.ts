import { describe, expect, test } from "bun:test";
import { kindOf, kindsTable, plateauVerdicts, type Sample } from "./soak.ts";

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

describe("kindOf", () => {
  test("cuts the hash-tagged id, or everything after two parts of an untagged key", () => {
    expect(kindOf("user:liked:{123}")).toBe("user:liked:{…}");
    expect(kindOf("feed:events:{3}")).toBe("feed:events:{…}");
    expect(kindOf("rate:write:42")).toBe("rate:write:…");
    expect(kindOf("feed:dlq")).toBe("feed:dlq");
  });
});

describe("kindsTable", () => {
  const at = (i: number, liked: number): Sample => ({
    ...flat(i),
    kinds: {
      "user:liked:{…}": { keys: 40, bytes: liked * 1024, maxMembers: 200 },
      "post:{…}": { keys: 900, bytes: 300 * 1024, maxMembers: 0 },
    },
  });
  test("four points of the run, biggest kind at the end first, keys, KiB and largest set", () => {
    const samples = Array.from({ length: 48 }, (_, i) => (i % 6 === 5 ? at(i, 100 + i * 10) : flat(i)));
    const lines = kindsTable(samples).split("\n");
    expect(lines[0]).toBe(
      "| key kind | minute 2: keys, KiB, largest | minute 4: keys, KiB, largest | minute 6: keys, KiB, largest | minute 8: keys, KiB, largest |",
    );
    expect(lines[2]).toBe("| `user:liked:{…}` | 40, 210, 200 | 40, 330, 200 | 40, 450, 200 | 40, 570, 200 |");
    expect(lines[3]).toBe("| `post:{…}` | 900, 300, – | 900, 300, – | 900, 300, – | 900, 300, – |");
  });
  test("a run too short for a breakdown says so", () => {
    expect(kindsTable([flat(0)])).toContain("no breakdown");
  });
});
