import fc from "fast-check";
import { generateRequests } from "./generate.ts";
import { findDocumentDefects, listOperations, loadOpenApi, type Operation } from "./openapi.ts";
import { type Answer, type BolaContext, checkProblem, judge } from "./oracle.ts";
import { describeRequest, type FuzzRequest, toRequest } from "./request.ts";
import type { FuzzTarget } from "./target.ts";
import { auditWorld, buildWorld, type FuzzWorld } from "./world.ts";

// The run: build the world, read the document, send N generated requests through the oracle
// with fast-check, shrink the first failure to a minimal request, audit the victim's rows.

export interface FuzzOptions {
  requests: number;
  seed?: number;
  /** fast-check's replay path of a reported failure (with its seed). */
  path?: string;
  /** A request left unanswered this long is a failure. */
  timeoutMs?: number;
  progress?: (line: string) => void;
}

export interface FuzzFailure {
  request: FuzzRequest;
  status: number;
  body: string;
  violations: string[];
  /** The status when sent once more after shrinking (state may have moved: a spent login). */
  replayedStatus: number;
  shrinks: number;
  /** fast-check's path: with the seed, `--path` replays the minimal case directly. */
  path: string;
}

export interface FuzzSummary {
  seed: number;
  requested: number;
  /** Requests of the main run (shrinking sends more; `sent` counts those too). */
  runs: number;
  sent: number;
  seconds: number;
  operations: number;
  perRoute: Record<string, number>;
  statuses: Record<string, number>;
  /** Statuses answered per route, for the report. */
  routeStatuses: Record<string, Record<string, number>>;
  /** Requests per tag: how many carried each kind of token, mutation, BOLA target… */
  tags: Record<string, number>;
  serverErrors: number;
  invalidProblems: number;
  otherViolations: number;
  /** Unhandled errors the app logged during the run. */
  unhandledErrors: number;
  documentDefects: string[];
  auditViolations: string[];
  failure: FuzzFailure | null;
}

const bump = (m: Record<string, number>, k: string) => {
  m[k] = (m[k] ?? 0) + 1;
};

/** Which operation of the document a sent request reached: literal segments before parameters. */
export function matchOperation(
  ops: readonly Operation[],
  method: string,
  pathname: string,
): Operation | undefined {
  // Elysia routes "/feed/" as "/feed" (its strictPath is off), so the template match does too.
  const segs = (pathname.length > 1 ? pathname.replace(/\/$/, "") : pathname).split("/");
  let best: { op: Operation; literals: number } | undefined;
  for (const op of ops) {
    if (op.method !== method) continue;
    const tpl = op.path.split("/");
    if (tpl.length !== segs.length) continue;
    let literals = 0;
    const fits = tpl.every((t, i) => {
      if (t.startsWith("{")) return segs[i] !== "";
      literals++;
      return t === segs[i];
    });
    if (fits && (!best || literals > best.literals)) best = { op, literals };
  }
  return best?.op;
}

async function answerOf(t: FuzzTarget, r: FuzzRequest, timeoutMs: number): Promise<Answer> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const res = await Promise.race([t.handle(toRequest(r)), late]);
    return { status: res.status, headers: res.headers, text: await res.text() };
  } finally {
    clearTimeout(timer);
  }
}

export async function runFuzz(t: FuzzTarget, o: FuzzOptions): Promise<FuzzSummary & { world: FuzzWorld }> {
  const started = performance.now();
  const seed = o.seed ?? (Date.now() ^ (Math.random() * 0x7fffffff)) >>> 0;
  const timeoutMs = o.timeoutMs ?? 30_000;
  const world = await buildWorld(t);
  const ops = listOperations(await loadOpenApi((r) => t.handle(r)));
  const ctx: BolaContext = {
    actorId: world.actor.id,
    secretsOfOthers: [world.victim.token, world.victim.refreshToken],
    sentinelPostId: world.bystander.postIds[0]!,
    sentinelUserId: world.bystander.id,
  };
  const s: FuzzSummary = {
    seed,
    requested: o.requests,
    runs: 0,
    sent: 0,
    seconds: 0,
    operations: ops.length,
    perRoute: {},
    statuses: {},
    routeStatuses: {},
    tags: {},
    serverErrors: 0,
    invalidProblems: 0,
    otherViolations: 0,
    unhandledErrors: 0,
    documentDefects: findDocumentDefects(ops),
    auditViolations: [],
    failure: null,
  };
  const errorsBefore = t.errors.length;
  let shrinking = false;
  // fast-check's counterexample is the last value that failed, so this is its answer.
  let lastFailure: { answer: Answer; violations: string[] } | null = null;

  const record = (r: FuzzRequest, a: Answer, violations: string[]) => {
    s.sent++;
    if (shrinking) return;
    s.runs++;
    bump(s.perRoute, r.op);
    bump(s.statuses, String(a.status));
    s.routeStatuses[r.op] ??= {};
    bump(s.routeStatuses[r.op]!, String(a.status));
    for (const t of new Set(r.tags)) bump(s.tags, t);
    if (a.status >= 500) s.serverErrors++;
    else if (a.status >= 400 && checkProblem(a, r.method === "HEAD").length > 0) s.invalidProblems++;
    else if (violations.length > 0) s.otherViolations++;
    if (s.runs % 1000 === 0)
      o.progress?.(
        `${s.runs}/${o.requests} requests, ${s.serverErrors} 5xx, ${s.invalidProblems} invalid problems`,
      );
  };

  const property = fc.asyncProperty(generateRequests(ops, world), async (r) => {
    const reached = matchOperation(ops, r.method, new URL(`http://localhost${r.url}`).pathname);
    // A request the app never answers (it threw past the error plugin, or hung) fails too.
    const answers = await Promise.all(
      Array.from({ length: r.copies }, () =>
        answerOf(t, r, timeoutMs).catch(
          (e): Answer => ({ status: 0, headers: new Headers(), text: String(e) }),
        ),
      ),
    );
    for (const a of answers) {
      const violations = a.status === 0 ? [`no answer: ${a.text}`] : judge(r, a, reached, ctx);
      record(r, a, violations);
      if (violations.length > 0) {
        shrinking = true;
        lastFailure = { answer: a, violations };
        throw new Error(violations.join("; "));
      }
    }
  });
  const details = await fc.check(property, {
    // Concurrent copies count as requests: a run of N sends a little more than N.
    numRuns: o.requests,
    seed,
    ...(o.path ? { path: o.path } : {}),
  });

  if (details.failed && details.counterexample && lastFailure) {
    const [minimal] = details.counterexample;
    const { answer, violations } = lastFailure as { answer: Answer; violations: string[] };
    // Sent once more: does the minimal case still fail, or did it depend on the run's state?
    const again = await answerOf(t, minimal, timeoutMs).catch(() => ({ status: 0 }));
    s.sent++;
    s.failure = {
      request: minimal,
      status: answer.status,
      body: answer.text.slice(0, 2000),
      violations,
      replayedStatus: again.status,
      shrinks: details.numShrinks,
      path: details.counterexamplePath ?? "",
    };
  } else if (details.failed) {
    s.auditViolations.push(`fast-check stopped: ${String(details.errorInstance ?? "interrupted")}`);
  }
  s.unhandledErrors = t.errors.length - errorsBefore;
  s.auditViolations.push(...(await auditWorld(t, world)));
  s.seconds = (performance.now() - started) / 1000;
  return { ...s, world };
}

/** Whether the run found nothing: the exit status of `./dev fuzz` and the test's assertion. */
export const isClean = (s: FuzzSummary) =>
  s.failure === null &&
  s.serverErrors === 0 &&
  s.invalidProblems === 0 &&
  s.otherViolations === 0 &&
  s.unhandledErrors === 0 &&
  s.documentDefects.length === 0 &&
  s.auditViolations.length === 0;

const table = (m: Record<string, number>) =>
  Object.entries(m)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `  ${k.padEnd(34)} ${String(v).padStart(6)}`)
    .join("\n");

export function formatSummary(s: FuzzSummary): string {
  const lines = [
    `fuzz: ${s.runs} requests (${s.sent} sent in all, with shrinking) over ${s.operations} operations in ${s.seconds.toFixed(1)} s, seed ${s.seed}`,
    "",
    "per route (requests, then statuses):",
    ...Object.entries(s.perRoute)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(
        ([route, n]) =>
          `  ${route.padEnd(30)} ${String(n).padStart(6)}  ${Object.entries(s.routeStatuses[route] ?? {})
            .map(([status, k]) => `${status}×${k}`)
            .join(" ")}`,
      ),
    "",
    "statuses:",
    table(s.statuses),
    "",
    "requests by what was done to them (a request has several):",
    ...["auth", "bola", "body", "ctype", "id", "cursor", "idem", "file", "concurrent"].map((family) => {
      const of = Object.entries(s.tags)
        .filter(([t]) => t === family || t.startsWith(`${family}:`))
        .sort(([, a], [, b]) => b - a);
      return `  ${family.padEnd(11)} ${of.map(([t, n]) => `${t.slice(family.length + 1) || family} ${n}`).join(", ")}`;
    }),
    "",
    `5xx: ${s.serverErrors}   invalid problems: ${s.invalidProblems}   other violations: ${s.otherViolations}   unhandled errors logged: ${s.unhandledErrors}`,
  ];
  if (s.documentDefects.length > 0)
    lines.push("", "OpenAPI document defects:", ...s.documentDefects.map((d) => `  - ${d}`));
  if (s.auditViolations.length > 0)
    lines.push("", "after the run:", ...s.auditViolations.map((d) => `  - ${d}`));
  if (s.failure) {
    const f = s.failure;
    lines.push(
      "",
      `FAILED, minimal request after ${f.shrinks} shrinks:`,
      describeRequest(f.request),
      "",
      `answer: ${f.status} ${f.body.slice(0, 600)}`,
      `sent once more: ${f.replayedStatus}${f.replayedStatus === f.status ? " (reproduces)" : " (depends on the run's state)"}`,
      "",
      "violations:",
      ...f.violations.map((v) => `  - ${v}`),
      "",
      `replay: ./dev fuzz --requests ${s.requested} --seed ${s.seed} --path ${f.path}`,
    );
  }
  lines.push("", isClean(s) ? "fuzz: clean" : "fuzz: VIOLATIONS FOUND");
  return lines.join("\n");
}
