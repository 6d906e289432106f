// The benchmark's Markdown report (perf/reports/<date>.md), rendered from its JSON results: one
// short template per section, each a list of lines. Pure, so it is unit-tested
// (perf/bench-report.test.ts) and re-renders a stored perf/results/bench-*.json byte for byte.
import {
  type BenchResults,
  type CpuSplit,
  cpuExplanation,
  GOALS,
  type GoalCheck,
  type Throughput,
} from "../bench-report.ts";
import { fmtBytes, fmtMs, fmtNum, pct, statusText, table } from "../lib/format.ts";
import { type Latency, round, summarize } from "../lib/stats.ts";

/** Share of a run's CPU that none of the stack's parts explains, above which the run is suspect. */
export const OTHER_SHARE_WARNING = 0.2;

/** perf/reports/<date>.md and its charts, named by the run's UTC date. */
export function reportNames(at: Date): { date: string; md: string; latencyPng: string; lagPng: string } {
  const date = at.toISOString().slice(0, 10);
  return {
    date,
    md: `${date}.md`,
    latencyPng: `${date}-feed-latency.png`,
    lagPng: `${date}-fanout-lag.png`,
  };
}

/**
 * Runs during which something outside the stack used a good share of the CPU (another user's
 * tests): their figures are pessimistic, and the report says so next to the table.
 */
export function contentionNote(r: BenchResults): string[] {
  const hit = [
    ...r.cpu
      .filter((c) => c.perRequestMs.total > 0)
      .map((c) => ({ name: c.scenario, share: c.perRequestMs.other / c.perRequestMs.total })),
    ...r.cached.sweep.map((p) => ({ name: `cached sweep ${pct(p.share)}`, share: p.outsideShare ?? 0 })),
  ].filter((x) => x.share > OTHER_SHARE_WARNING);
  const before = `Before the first run the cores were ${pct(r.busyBefore)} busy with nothing of the bench's running.`;
  if (hit.length === 0)
    return [
      `${before} No run shared the machine with much else (other ≤ ${pct(OTHER_SHARE_WARNING)} of its CPU).`,
      "",
    ];
  return [
    `${before} **Shared machine**: during ${hit.map((x) => `${x.name} (${pct(x.share)})`).join(", ")} ` +
      `more than ${pct(OTHER_SHARE_WARNING)} of the CPU went to processes outside the stack, so those figures are pessimistic.`,
    "",
  ];
}

/** What every section reads: the results, and figures derived from them once. */
interface View {
  r: BenchResults;
  names: ReturnType<typeof reportNames>;
  /** Throughput against the hello-world baseline. */
  vs: (rps: number) => number;
  lag: Latency;
  lower: Latency;
  cpuOf: (name: string) => CpuSplit | undefined;
}

const latencyCells = (l: Latency, ...which: ("p50" | "p95" | "p99" | "max")[]) =>
  which.map((k) => fmtMs(l[k]));

/** A row of the figures table for a closed-loop run (or a paced point) of requests. */
const runRow = (
  label: string,
  rate: number,
  latency: Latency,
  vs: string,
  statuses: Record<string, number>,
) => [
  label,
  `${fmtNum(rate)} req/s`,
  ...latencyCells(latency, "p50", "p95", "p99"),
  vs,
  statusText(statuses),
];

function header({ r, names }: View): string[] {
  const minutes = (Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 60_000;
  return [
    `# Benchmark report, ${names.date}`,
    "",
    `\`./dev bench\` on the 1M-user seed (${fmtNum(r.seed.users)} users, seed ${r.seed.seed}, ` +
      `${fmtNum(r.seed.activeUsers)} active), ${r.cores} cores shared by the api, the projector, ` +
      `PostgreSQL, Redis and the load generator. Started ${r.startedAt}, took ${fmtNum(minutes)} min; ` +
      `${r.seconds} s per closed-loop run and per sweep step, ${r.connections} connections. ` +
      "Every figure is compared with a baseline measured in the same run: the machine is shared, " +
      "absolute numbers drift from run to run, ratios much less. " +
      `Code: commit ${r.code.commit.slice(0, 12)}` +
      (r.code.dirty.length ? ` with uncommitted changes to ${r.code.dirty.join(", ")}` : "") +
      `; the api process started ${r.processes.api ?? "(unknown)"}, the projector ${r.processes.projector ?? "(unknown)"} ` +
      "(code changed after a process started is not what was measured).",
    "",
  ];
}

function goalsSection(goals: GoalCheck[]): string[] {
  const rows = goals.map((g) => [
    g.goal,
    g.measured,
    String(g.ratio),
    g.met ? "**met**" : "**missed**",
    g.gap ?? "—",
  ]);
  return [
    "## Goals",
    "",
    table(["goal", "measured", "ratio", "verdict", "gap"], rows, ["l", "l", "r", "l", "l"]),
    "",
    `${goals.filter((g) => g.met).length} of ${goals.length} goals met.`,
    "",
  ];
}

function figuresSection({ r, vs, lag }: View): string[] {
  const hello = r.baselines.hello;
  const ofHello = (t: Throughput) => `${vs(t.rps)} of hello-world`;
  const at70 = r.cached.at70;
  const mixedVs = `${round(r.mixed.rps / Math.max(r.mixed.readOnlyRps, 1e-9), 3)} of cached read-only just before (${fmtNum(r.mixed.readOnlyRps)} req/s)`;
  const rows = [
    runRow(
      "Elysia hello-world, in-process Bun.serve (baseline)",
      hello.rps,
      hello.latency,
      "1",
      hello.statuses,
    ),
    runRow(
      `cached GET /feed, closed loop (${r.cached.readers} warm readers)`,
      r.cached.max.rps,
      r.cached.max.latency,
      ofHello(r.cached.max),
      r.cached.max.statuses,
    ),
    runRow(
      `cached GET /feed at 70% (${fmtNum(at70.offered)} req/s offered, paced)`,
      at70.achieved,
      at70.latency,
      "—",
      at70.statuses,
    ),
    runRow(
      `cold GET /feed (${fmtNum(r.cold.requests)} readers, head deleted before)`,
      r.cold.rps,
      r.cold.latency,
      ofHello(r.cold),
      r.cold.statuses,
    ),
    runRow(
      "POST /posts (authors with ≤ 10 followers)",
      r.posts.rps,
      r.posts.latency,
      ofHello(r.posts),
      r.posts.statuses,
    ),
    runRow(
      `POST /likes (${fmtNum(r.likes.newLikes)} new likes of ${fmtNum(r.likes.requests)})`,
      r.likes.rps,
      r.likes.latency,
      ofHello(r.likes),
      r.likes.statuses,
    ),
    runRow(
      `mixed 50:1 (${fmtNum(r.mixed.reads)} reads, ${fmtNum(r.mixed.writes)} writes)`,
      r.mixed.rps,
      r.mixed.latency,
      mixedVs,
      r.mixed.statuses,
    ),
    [
      `fan-out, ${r.fanout.posts} posts of push authors`,
      `${fmtNum(r.fanout.rowsPerS)} rows/s`,
      "—",
      "—",
      "—",
      `${round(r.fanout.rowsPerS / Math.max(r.baselines.copyRowsPerS, 1e-9), 3)} of raw COPY`,
      "—",
    ],
    [
      `fan-out lag, ${fmtNum(r.lag.authorFollowers)}-follower author, ${r.lag.sampled} followers`,
      "—",
      ...latencyCells(lag, "p50", "p95", "p99"),
      `max ${fmtMs(lag.max)}`,
      r.lag.missing ? `${r.lag.missing} never saw it` : "all saw it",
    ],
  ];
  return [
    "## Figures",
    "",
    table(["scenario", "rate", "p50", "p95", "p99", "vs baseline", "statuses"], rows, [
      "l",
      "r",
      "r",
      "r",
      "r",
      "r",
      "l",
    ]),
    "",
    "Latencies are client-side, for every response whatever its status.",
    "",
  ];
}

function baselinesSection({ r }: View): string[] {
  const hello = r.baselines.hello;
  const rows = [
    [
      "Elysia hello-world",
      `${fmtNum(hello.rps)} req/s`,
      ...latencyCells(hello.latency, "p50", "p99"),
      `autocannon, ${r.connections} connections, ${fmtNum(hello.seconds)} s; the server and autocannon share the bench process (one JS thread), so this baseline uses about one core`,
    ],
    [
      "raw COPY",
      `${fmtNum(r.baselines.copyRowsPerS)} rows/s`,
      "—",
      "—",
      `${fmtNum(r.baselines.copyRows)} rows of two bigints into a plain unindexed table (perf/seed/sql.ts rawCopyRate)`,
    ],
    ...r.baselines.redis.map((b) => [
      `redis-benchmark \`${b.test}\``,
      `${fmtNum(b.rps)} ops/s`,
      fmtMs(b.p50),
      fmtMs(b.p99),
      "50 clients, no pipelining, database 3",
    ]),
  ];
  return [
    "## Baselines",
    "",
    table(["baseline", "rate", "p50", "p99", "how"], rows, ["l", "r", "r", "r", "l"]),
    "",
  ];
}

function cachedSection({ r, names }: View): string[] {
  const head = ["offered", "share of max", "achieved", "dropped", "p50", "p95", "p99", "max", "statuses"];
  const rows = r.cached.sweep.map((s) => [
    `${fmtNum(s.offered)} req/s`,
    pct(s.share),
    `${fmtNum(s.achieved)} req/s`,
    fmtNum(s.dropped),
    ...latencyCells(s.latency, "p50", "p95", "p99", "max"),
    statusText(s.statuses),
    s.outsideShare === undefined ? "—" : pct(s.outsideShare),
  ]);
  const a = r.cached.autocannon70;
  return [
    "## Cached GET /feed: latency against offered load",
    "",
    `![p50, p95 and p99 of cached GET /feed against the offered rate](${names.latencyPng})`,
    "",
    table([...head, "CPU outside the stack"], rows, ["r", "r", "r", "r", "r", "r", "r", "r", "l", "r"]),
    "",
    "Each step is an open-loop run: the bench's pacer sends request i at start + i/rate (evenly " +
      "spaced, at most 256 waiting; one that would be the 257th is dropped and counted) and " +
      "times it from that moment, so time spent queueing in the client counts too.",
    ...(a
      ? [
          "",
          `For comparison, autocannon's \`overallRate\` at the same ${fmtNum(a.offered)} req/s: p50 ` +
            `${fmtMs(a.latency.p50)}, p95 ${fmtMs(a.latency.p95)}, p99 ${fmtMs(a.latency.p99)} ` +
            `(${fmtNum(a.achieved)} req/s achieved). It sends each connection's share back to back at the ` +
            "start of every second, so most requests wait behind a burst: its percentiles describe the " +
            "burst, not the offered rate, and the goal is checked against the paced run.",
        ]
      : []),
    "",
  ];
}

function fanoutParagraph({ r }: View): string {
  const f = r.fanout;
  return (
    `Throughput: ${f.posts} posts by seeded push authors (2 000–9 000 followers, ` +
    `${fmtNum(f.followers)} followers in all) published at once through POST /posts; ` +
    `\`fanout_rows_total\` grew by ${fmtNum(f.rows)} in ${fmtNum(f.wallSeconds)} s, from the ` +
    `first post to the last row (${f.drained ? "every event handled, no fan-out job left" : "**the fan-out had not finished by the deadline**"}): ` +
    `**${fmtNum(f.rowsPerS)} rows/s**, ${pct(f.rowsPerS / Math.max(r.baselines.copyRowsPerS, 1e-9))} of raw COPY. ` +
    `Followers considered: ${fmtNum(f.followersPerS)}/s (the authors' followers over the same time). ` +
    "A batch reads only `active_follows`, the follows of readers who are not away (sql/0013): the " +
    "others cost nothing now and get their feed rebuilt when they return, so rows are " +
    `${pct(f.rows / Math.max(f.followers, 1))} of followers. Posts with more than FANOUT_INLINE_MAX ` +
    "active followers are fanned out by the projector's fan-out lane (FANOUT_LANE_WORKERS workers, SKIP " +
    "LOCKED, no rest while jobs wait); the other posts of one read go out together, up to FANOUT_BATCH_SIZE " +
    "rows per statement."
  );
}

function lagParagraph({ r, lag, lower }: View): string {
  const l = r.lag;
  const lowerBound =
    lower.max === 0
      ? "0 ms for every follower: each one's first poll already showed it. "
      : `p50 ${fmtMs(lower.p50)}, p99 ${fmtMs(lower.p99)} (the lower bound, dashed in the chart). `;
  const closeUp = l.closeUp
    ? `One follower polled back to back by its own poller saw it between ${fmtMs(l.closeUp.lowerMs)} and ` +
      `${fmtMs(l.closeUp.upperMs)} after the POST was sent. `
    : "";
  const projector =
    l.projectorLagMs === null
      ? ""
      : `The projector handled the event ${fmtMs(l.projectorLagMs)} after it occurred (\`projector_event_lag_seconds\`). `;
  return (
    `Lag: one post by a seeded author with ${fmtNum(l.authorFollowers)} followers, then ` +
    `${l.sampled} of those followers (${l.activeSampled} of them active) polled GET /feed by ` +
    `${l.pollers} pollers until it appeared, while a paced cached-read load of ${fmtNum(l.background.offered)} req/s ` +
    `(${pct(l.background.share)} of the maximum; ${fmtNum(l.background.achieved)} achieved, p99 ` +
    `${fmtMs(l.background.latency.p99)}) ran beside them. A follower's lag is from sending the POST to ` +
    `receiving the first page that holds the post: p50 **${fmtMs(lag.p50)}**, p95 ${fmtMs(lag.p95)}, ` +
    `p99 **${fmtMs(lag.p99)}**, max ${fmtMs(lag.max)}` +
    `${l.missing ? `; **${l.missing} never saw it within ${l.deadlineS} s**` : ""}. ` +
    "It is an upper bound set mostly by the polling: a round over every follower took " +
    `${fmtMs(1000 / Math.max(l.pollsPerFollowerPerS, 1e-9))}, and the last poll without the post was sent at ` +
    lowerBound +
    closeUp +
    projector +
    `The author is above FANOUT_PULL_THRESHOLD (${fmtNum(r.config.pullThreshold)}), so this is the ` +
    "**pull path**: nothing is written to the followers' feeds; the projector puts the post on the " +
    "author's cached list and each reader merges the pull authors it follows at read time."
  );
}

function fanoutSection(v: View): string[] {
  return [
    "## Fan-out",
    "",
    fanoutParagraph(v),
    "",
    lagParagraph(v),
    "",
    `![Share of sampled followers whose feed shows the post, against time since the POST](${v.names.lagPng})`,
    "",
  ];
}

function redisMemorySection({ r }: View): string[] {
  const m = r.redisMemory;
  return [
    "## Redis memory",
    "",
    `INFO \`used_memory\` went from ${fmtBytes(m.usedBefore)} to ${fmtBytes(m.usedAfter)} ` +
      `while ${fmtNum(m.heads)} cold readers' heads were rebuilt (the cold run): ` +
      `**${fmtBytes(m.bytesPerHead)} per reader**, which includes their pull-author lists ` +
      "and the post, author and count caches their first pages filled. The head keys alone " +
      `(MEMORY USAGE, sampled) are ${fmtBytes(m.headKeyBytes)} each. For the ` +
      `${fmtNum(r.seed.activeUsers)} active users of the 1M seed that is ` +
      `**${fmtBytes(m.extrapolatedBytes)}** (with the ${fmtBytes(m.usedBefore)} ` +
      "already in use), against the 6 GB goal. Another client writing to the same Redis meanwhile " +
      "(another database's tests) would add to the delta, so the head-only figure is the floor.",
    "",
  ];
}

function cpuSection({ r }: View): string[] {
  const head = [
    "run",
    "requests",
    "api",
    "projector",
    "Redis",
    "PostgreSQL",
    "bench process",
    "other",
    "total",
  ];
  const rows = r.cpu.map((c) => {
    const p = c.perRequestMs;
    const perRequest = [p.api, p.projector, p.redis, p.postgres, p.generator, p.other, p.total].map(fmtMs);
    return [c.scenario, fmtNum(c.requests), ...perRequest, pct(c.utilization)];
  });
  return [
    "## Where the CPU went",
    "",
    table([...head, "cores busy"], rows, ["l", "r", "r", "r", "r", "r", "r", "r", "r", "r"]),
    "",
    ...contentionNote(r),
    `GET /metrics took ${fmtMs(r.scrapeMs.api)} on the idle api and ${fmtMs(r.scrapeMs.projector)} on the projector; ` +
      "a process answers nothing else while it builds that page.",
    "",
    "CPU time per request during each closed-loop run (for the writes and the mix, until the projector " +
      "had handled their events too): the api's and projector's " +
      "`process_cpu_seconds_total`, Redis's INFO `used_cpu_*`, PostgreSQL's processes from /proc, " +
      "the bench process itself (autocannon, and the hello-world server in the baseline), and the " +
      "rest of the machine's busy time (/proc/stat): Prometheus, exporters, other users.",
    "",
  ];
}

/** Why the cached reads' p99 missed: queueing behind the load, or stalls at any rate. */
function cachedP99Cause({ r }: View): string {
  const low = r.cached.sweep[0];
  const at70 = r.cached.at70.latency;
  const head = `At 70% of the maximum the p50 is ${fmtMs(at70.p50)} and the p99 ${fmtMs(at70.p99)}`;
  // A tail already over budget at the lowest offered rate is not queueing behind the load.
  if (low && low.latency.p99 > GOALS.cachedP99Ms)
    return (
      `${head}, but already at ${pct(low.share)} of it the p99 is ${fmtMs(low.latency.p99)} ` +
      `(p50 ${fmtMs(low.latency.p50)}): the tail is not queueing behind the offered load but occasional ` +
      "stalls that catch a read at any rate. " +
      (r.scrapeMs.api > 10
        ? `The idle api took ${fmtMs(r.scrapeMs.api)} to answer GET /metrics, and serves nothing else meanwhile: ` +
          "every Prometheus scrape stalls the reads in flight (see the profile findings)."
        : "Candidates: garbage collection, and background work of Prometheus, the projector and PostgreSQL on the same cores.")
    );
  return `${head}; at ${pct(low?.share ?? 0)} the p99 is ${fmtMs(low?.latency.p99 ?? 0)}: the tail grows with the load, queueing on two cores shared by every process of the stack and the generator.`;
}

function fanoutCause({ r, cpuOf }: View): string {
  const c = cpuOf("fan-out (per row)");
  const per = c?.perRequestMs;
  return (
    `The fan-out ran ${fmtNum(r.fanout.wallSeconds)} s for ${fmtNum(r.fanout.rows)} rows, going through ` +
    `${fmtNum(r.fanout.followersPerS)} followers/s considered (rows go only to the active ones)` +
    (per
      ? `, ${fmtMs(per.total)} of CPU per row (PostgreSQL ${fmtMs(per.postgres)}, projector ${fmtMs(per.projector)}, ` +
        `Redis ${fmtMs(per.redis)}; cores ${pct(c!.utilization)} busy)`
      : "") +
    ": each batch is an INSERT … SELECT from active_follows into the indexed user_feed partitions " +
    "(a primary key and an author index, random leaf pages of a table larger than shared_buffers), " +
    "then the Redis pushes, where COPY appends to one unindexed table."
  );
}

/** What the CPU split (or the sweep) says about a missed goal, by goal id. */
function causeOf(v: View, id: string): string {
  const { r, cpuOf } = v;
  const explain = (run: string) => {
    const c = cpuOf(run);
    return c ? cpuExplanation(c, cpuOf("hello-world"), r.cores) : "";
  };
  const mixed = () => {
    const c = cpuOf("mixed 50:1");
    const cached = cpuOf("cached GET /feed");
    return c && cached
      ? `A mixed request cost ${fmtMs(c.perRequestMs.total)} of CPU against ${fmtMs(cached.perRequestMs.total)} for a cached read: ${cpuExplanation(c, undefined, r.cores)}`
      : "";
  };
  const causes: Record<string, () => string> = {
    "cached-rps": () => explain("cached GET /feed"),
    "cold-rps": () => explain("cold GET /feed"),
    "posts-rps": () => explain("POST /posts"),
    mixed,
    "cached-p99": () => cachedP99Cause(v),
    fanout: () => fanoutCause(v),
  };
  return causes[id]?.() ?? "";
}

function causesSection(v: View, goals: GoalCheck[], notes: string): string[] {
  const missed = goals.filter((g) => !g.met);
  const lines = missed.map((g) => {
    const why = causeOf(v, g.id);
    return `- **${g.goal}**: ${g.gap}.${why ? ` ${why}` : ""}`;
  });
  return [
    "## Causes of the misses",
    "",
    ...(missed.length === 0 ? ["None: every goal was met."] : []),
    ...lines,
    ...(notes.trim() ? ["", notes.trim()] : []),
    "",
  ];
}

function howMeasuredSection({ r, names }: View): string[] {
  return [
    "## How it was measured",
    "",
    "- Closed-loop runs (hello-world, the cached maximum, cold, posts, likes, mixed): autocannon with " +
      `${r.connections} connections, each response's status and time recorded by the bench itself ` +
      "(autocannon's own histogram keeps 2xx only). Rates are responses over the run's wall time.",
    `- Readers: ${r.cached.readers} active seeded users whose heads were warmed first, in turn; cold ` +
      "readers: other active seeded users, each read once, whose head and pull-author list were " +
      "deleted just before the run. Tokens signed in-process with core/tokens.ts.",
    "- Posts: seeded authors with at most 10 followers, so the run leaves no fan-out backlog; likes: " +
      "distinct (user, seeded post) pairs, new unless the seed already had them (201 new, 200 already liked).",
    "- The backlog is drained (stream lag and pending 0) before the fan-out and lag measurements.",
    `- Raw figures: perf/results/bench-${names.date}-*.json (not in git).`,
  ];
}

/** The Markdown report. `notes` (hand-written profile findings) is appended when given. */
export function formatBenchReport(r: BenchResults, goals: GoalCheck[], notes = ""): string {
  const v: View = {
    r,
    names: reportNames(new Date(r.startedAt)),
    vs: (rps) => round(rps / r.baselines.hello.rps, 4),
    lag: summarize(r.lag.lagsMs),
    lower: summarize(r.lag.lagsLowerMs),
    cpuOf: (name) => r.cpu.find((c) => c.scenario === name),
  };
  const sections = [
    header(v),
    goalsSection(goals),
    figuresSection(v),
    baselinesSection(v),
    cachedSection(v),
    fanoutSection(v),
    redisMemorySection(v),
    cpuSection(v),
    causesSection(v, goals, notes),
    howMeasuredSection(v),
  ];
  return `${sections.flat().join("\n")}\n`;
}
