// ./dev chaos [--short] [--rate N] [--seed N] [--only a,b] [--report]
// Fault injection under load on a stack of its own (perf/chaos/run.ts): one line per fault and
// a final `chaos: N faults, lost=… duplicated=…`; exit 1 when any fault fails. --report writes
// perf/reports/<date>-chaos.md.
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type ChaosResult, faultLine, runChaos } from "./chaos/run.ts";
import { commitOf } from "./lib/git.ts";

function usage(message: string): never {
  console.error(
    `${message}\nusage: ./dev chaos [--short] [--rate N] [--seed N] [--only fault,fault] [--report]`,
  );
  process.exit(2);
}

let values: { short?: boolean; rate?: string; seed?: string; only?: string; report?: boolean };
try {
  ({ values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      short: { type: "boolean" },
      rate: { type: "string" },
      seed: { type: "string" },
      only: { type: "string" },
      report: { type: "boolean" },
    },
  }));
} catch (e) {
  usage((e as Error).message);
}
const rate = Number(values.rate ?? (values.short ? 60 : 120));
if (!Number.isInteger(rate) || rate < 1 || rate > 1000)
  usage(`--rate must be 1–1000 requests/s, got "${values.rate}"`);
const seed = Number(values.seed ?? 7);
if (!Number.isInteger(seed)) usage(`--seed must be a whole number, got "${values.seed}"`);

const dir = join(tmpdir(), `feed-chaos-${process.pid}`);
const commit = commitOf();
const result = await runChaos({
  dir,
  short: values.short ?? false,
  rate,
  seed,
  only: values.only?.split(",").filter(Boolean),
  log: (m) => console.log(m),
});
console.log(summaryLine(result));
if (values.report) {
  const file = join(import.meta.dir, "reports", `${new Date().toISOString().slice(0, 10)}-chaos.md`);
  mkdirSync(join(import.meta.dir, "reports"), { recursive: true });
  writeFileSync(file, reportOf(result, { rate, seed, short: values.short ?? false, commit }));
  console.log(`report: ${file}`);
}
if (!result.ok) console.log(`logs: ${dir}`);
process.exit(result.ok ? 0 : 1);

function summaryLine(r: ChaosResult): string {
  const sum = (k: "lost" | "duplicated") => r.faults.reduce((s, f) => s + Math.max(0, f[k]), 0);
  return `chaos: ${r.faults.length} faults, lost=${sum("lost")} duplicated=${sum("duplicated")}; ${r.requests} requests, ${r.fiveHundreds} 5xx (all 503: ${r.faults.every((f) => f.load.unexpected5xx === 0)}); posts sent ${r.postsSent}, acknowledged but missing ${r.commandsLost}, stored twice ${r.commandsDoubled}; ${r.ok ? "ok" : "FAILED"} in ${(r.elapsedMs / 1000).toFixed(0)} s`;
}

function reportOf(r: ChaosResult, o: { rate: number; seed: number; short: boolean; commit: string }): string {
  const rows = r.faults.map((f) => {
    const statuses = Object.entries(f.load.byStatus)
      .map(([k, v]) => `${k}: ${v}`)
      .join(", ");
    return `| ${f.name} | ${f.detail} | ${f.load.sent} | ${statuses} | ${f.load.refused} | ${f.load.hung} | ${
      Object.entries(f.restarts)
        .map(([k, v]) => `${k} ×${v}`)
        .join(", ") || "—"
    } | ${f.recoveredMs} ms | ${f.drainedMs} ms | ${f.lost} | ${f.duplicated} | ${f.stale_counts} | ${f.unpublished} | ${f.dlq} | ${f.stale_liked} | ${f.ok ? "ok" : "**failed**"} |`;
  });
  const notes = r.faults.flatMap((f) => [
    ...f.notes.map((n) => `- ${f.name}: ${n}`),
    ...f.problems.map((p) => `- ${f.name}: **problem**: ${p}`),
  ]);
  return `# Chaos run, ${new Date().toISOString().slice(0, 10)}

\`./dev chaos${o.short ? " --short" : ""} --rate ${o.rate} --seed ${o.seed} --report\` (code: ${o.commit}): a stack of its own (PostgreSQL, Redis with
appendonly and noeviction, one api, one projector, all on loopback), ${o.rate} requests/s of open-model
load (feed reads 55%, posts 15%, likes 10%, unlikes 5%, follows 9%, unfollows 6%) from 40 users who
follow a pull-mode celebrity and ~8 others each. Each fault is injected under the load and healed;
the load runs on, stops; the run waits for both services to be ready by themselves, retries the
writes that got no definite answer with their own Idempotency-Keys, waits for the projector to
drain, and reconciles (\`./dev reconcile\`'s checks, plus every trusted liked set of a user against
their likes rows: the cache liked_by_me is answered from). Settings: ${Object.entries(r.config)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ")}.

**${r.faults.length} faults, ${r.faults.filter((f) => f.ok).length} passed; ${r.requests} requests, ${r.fiveHundreds} answered 5xx (every one a 503 problem+json: ${r.faults.every((f) => f.load.unexpected5xx === 0)}); ${r.postsSent} posts sent, ${r.commandsLost} acknowledged but missing, ${r.commandsDoubled} stored twice. ${r.ok ? "Passed" : "Failed"} in ${(r.elapsedMs / 1000).toFixed(0)} s.**

| fault | what | requests | statuses | refused | hung | restarts | ready after | drained after | lost | duplicated | stale counts | unpublished | dlq | stale liked sets | verdict |
| --- | --- | ---: | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |
${rows.join("\n")}

"refused": requests that found no api process (it had just been killed; a balancer would have
sent them elsewhere). "hung": no answer within 10 s. "ready after": from the end of the load to
both /ready endpoints answering 200. Restarts are the supervisor's (the run's stand-in for
compose's restart policy); a fault that does not kill a process must leave it running.

## Notes

${notes.join("\n") || "- none"}

## Lines

\`\`\`
${r.faults.map(faultLine).join("\n")}
\`\`\`
`;
}
