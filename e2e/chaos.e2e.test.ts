import { expect, test } from "bun:test";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { faultLine, runChaos } from "../perf/chaos/run.ts";

// The short chaos run (./dev chaos --short): every fault under load on a stack of its own
// (PostgreSQL :55462, Redis :7301, api :3301, projector :9301), each ending with lost=0
// duplicated=0, nothing hung, every 5xx a 503 problem+json, every process recovered by itself.
// The full run (./dev chaos --report) repeats the kills and runs longer, at a higher rate.

test("chaos (short): kill -9 projector and api, kill/flush/stop Redis, restart PostgreSQL, poison and replay", {
  timeout: 600_000,
}, async () => {
  const result = await runChaos({
    dir: join(tmpdir(), `feed-chaos-e2e-${process.pid}`),
    short: true,
    rate: 60,
    seed: 7,
    log: (m) => console.log(m),
  });
  for (const f of result.faults) {
    expect({ fault: f.name, problems: f.problems }).toEqual({ fault: f.name, problems: [] });
    expect(faultLine(f)).toStartWith("ok");
  }
  expect(result.faults.map((f) => f.name)).toEqual([
    "projector-kill",
    "api-crash-after-commit",
    "redis-kill",
    "redis-flushall",
    "redis-sigstop",
    "pg-restart",
    "poison",
  ]);
  expect(result.commandsLost).toBe(0);
  expect(result.commandsDoubled).toBe(0);
  expect(result.ok).toBe(true);
});
