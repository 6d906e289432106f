// What a feed service mostly sees: 50 feed reads to 1 write, K6_RATE requests per second in all.
// Two open-model scenarios over a 51-second time unit, so both rates stay whole numbers: reads
// arrive at 50·K6_RATE per 51 s, writes (a post, then a like, alternately) at K6_RATE per 51 s.
//   k6 run -e K6_RATE=200 -e K6_DURATION=60s -e LOAD_TEST_SECRET=… perf/k6/mixed.js
import { arrivalScenario, optionsFor, RATE, setupRun } from "./lib.js";

export {
  handleSummary,
  readFeed,
  replacedScenarios as default,
  teardown,
  writeOne,
} from "./lib.js";

export const options = optionsFor({
  reads: arrivalScenario("readFeed", { rate: 50 * RATE, timeUnit: "51s" }),
  writes: arrivalScenario("writeOne", { rate: RATE, timeUnit: "51s" }),
});

export function setup() {
  return setupRun({ needPosts: true });
}
