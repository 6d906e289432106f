// `./dev fuzz`: property-based requests for every operation of the OpenAPI document,
// in-process against real PostgreSQL, Redis and S3 (s3rver), with the oracle of perf/fuzz/.
// Prints requests, per-route counts, the status histogram, 5xx and invalid problems and the
// seed; exits 1 on any violation, with the minimal failing request fast-check shrank it to.
import { parseArgs } from "node:util";
import { loadTestConfig } from "../db/testing.ts";
import { formatSummary, isClean, runFuzz } from "./fuzz/run-fuzz.ts";
import { openFuzzTarget } from "./fuzz/target.ts";

const USAGE = `usage: bun perf/fuzz.ts [options]   (./dev fuzz [options])

  --requests N         generated requests (default 10000)
  --seed S             fast-check seed (default: random; printed, so a run can be repeated)
  --path P             with --seed: replay the shrunk failure fast-check reported
  --database-url URL   PostgreSQL database, emptied first (default: TEST_DATABASE_URL's server,
                       database feed_fuzz_test; ./dev fuzz creates it)
  --redis-url URL      Redis database, flushed first (default: TEST_REDIS_URL's server, db 2)`;

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "10000" },
    seed: { type: "string" },
    path: { type: "string" },
    "database-url": { type: "string" },
    "redis-url": { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const requests = Number(values.requests);
const seed = values.seed === undefined ? undefined : Number(values.seed);
if (!Number.isInteger(requests) || requests < 1 || (seed !== undefined && !Number.isInteger(seed))) {
  console.error(`fuzz: --requests and --seed must be integers (--requests ≥ 1)\n\n${USAGE}`);
  process.exit(2);
}

// Its own database and Redis database: a run empties both, so never the suites' or development's.
const base = loadTestConfig();
const dbUrl = new URL(values["database-url"] ?? base.DATABASE_URL);
if (!values["database-url"]) dbUrl.pathname = "/feed_fuzz_test";
const redisUrl = new URL(values["redis-url"] ?? base.REDIS_URL);
if (!values["redis-url"]) redisUrl.pathname = "/2";

const target = await openFuzzTarget({ DATABASE_URL: dbUrl.toString(), REDIS_URL: redisUrl.toString() });
let clean = false;
try {
  console.log(
    `fuzz: ${requests} requests against ${dbUrl.pathname.slice(1)} and Redis ${redisUrl.pathname}…`,
  );
  const summary = await runFuzz(target, {
    requests,
    seed,
    path: values.path,
    progress: (line) => console.log(`  ${line}`),
  });
  console.log(formatSummary(summary));
  clean = isClean(summary);
} finally {
  await target.close();
}
process.exit(clean ? 0 : 1);
