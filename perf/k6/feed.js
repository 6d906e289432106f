// GET /feed?limit=20 as a random seeded user, at K6_RATE requests per second for K6_DURATION.
//   k6 run -e K6_RATE=200 -e K6_DURATION=60s -e LOAD_TEST_SECRET=… perf/k6/feed.js
import { arrivalScenario, optionsFor, setupRun } from "./lib.js";

export { handleSummary, readFeed, replacedScenarios as default, teardown } from "./lib.js";

export const options = optionsFor({ feed: arrivalScenario("readFeed") });

export function setup() {
  return setupRun();
}
