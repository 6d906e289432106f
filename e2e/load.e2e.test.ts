import { describe, expect, test } from "bun:test";
import { base } from "./support.ts";

// A small load run inside ./dev test: a 10 000-user seed, then a 20-second mixed (50:1) load
// through ./dev load's runner against the running stack. It checks correctness (every report
// field filled; reconcile clean afterwards), never timings (the machine is shared).

const root = `${import.meta.dir}/..`;

function run(args: string[]) {
  const r = Bun.spawnSync(["bun", ...args], { cwd: root, env: process.env });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

describe("seed + mixed load", () => {
  test(
    "a 10 000-user seed, then 20 s of 50:1 reads:writes with no errors and a complete report",
    async () => {
      const seeded = run(["perf/seed.ts", "--users", "10000", "--if-absent"]);
      expect([seeded.code, seeded.err]).toEqual([0, expect.any(String)]);
      expect(seeded.out).toMatch(/seed: (10000 users|keeping the existing complete seed)/);

      const load = run([
        "perf/load.ts",
        "--scenario",
        "mixed",
        "--duration",
        "20",
        "--rate",
        "50",
        "--users",
        "500",
        "--base-url",
        base,
      ]);
      expect([load.code, load.err]).toEqual([0, ""]);
      const file = load.out.match(/report: (\S+\.json)/)?.[1];
      expect(file).toBeDefined();
      const report = await Bun.file(`${root}/${file}`).json();

      // Every field filled: no null, NaN or missing value anywhere but the hit ratio's own n/a.
      const holes: string[] = [];
      const walk = (v: unknown, path: string) => {
        if (v === null || v === undefined || (typeof v === "number" && !Number.isFinite(v))) holes.push(path);
        else if (typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
      };
      walk(report, "report");
      expect(holes).toEqual([]);

      expect(report.scenario).toBe("mixed");
      expect(report.ok).toBe(true);
      expect(report.failures).toEqual([]);
      expect(report.requests).toBeGreaterThan(500);
      expect(report.errors.count).toBe(0);
      // Reads (200) and writes (201, about one in 51), nothing else.
      expect(Object.keys(report.errors.by_status).sort()).toEqual(["200", "201"]);
      expect(report.errors.by_status["201"]).toBeGreaterThan(0);
      expect(report.latency_ms.p50).toBeLessThanOrEqual(report.latency_ms.p95);
      expect(report.latency_ms.p95).toBeLessThanOrEqual(report.latency_ms.p99);
      expect(report.cache.hits + report.cache.misses).toBeGreaterThan(0);
      expect(Object.keys(report.backlog.by_group)).toContain("projector");

      // Nothing lost or doubled: once the projector has drained, reconcile a sample of readers
      // (the seeded followers of the load's authors among them) — retried while it drains.
      let rec = run(["projector/reconcile-cli.ts", "reconcile", "--sample", "2000"]);
      for (let i = 0; i < 30 && rec.code !== 0; i++) {
        await Bun.sleep(1000);
        rec = run(["projector/reconcile-cli.ts", "reconcile", "--sample", "2000"]);
      }
      expect([rec.code, rec.out]).toEqual([
        0,
        expect.stringContaining("lost=0 duplicated=0 stale_counts=0 unpublished=0 dlq=0"),
      ]);
    },
    { timeout: 120_000 },
  );
});
