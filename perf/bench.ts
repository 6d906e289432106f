// The benchmark (`./dev bench`): the feed service on the 1M-user seed against
// baselines measured in the same run (an Elysia hello-world, raw COPY, redis-benchmark), as
// ratios, because the machine is shared and absolute numbers drift. Writes
// perf/reports/<date>.md with its charts, and the raw figures to perf/results/. Traffic goes to
// loopback only and every run is bounded in time and count. What each step measures and why is
// in perf/README.md. The parts are in bench/: settings (BENCH_*), load generators, CPU and
// backlog readings, baselines, the feed and fan-out runs, the report; pure parts in
// bench-report.ts and bench-charts.ts.
import { runBench } from "./bench/main.ts";

process.exit(await runBench());
