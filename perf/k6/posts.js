// POST /posts {text} with a fresh Idempotency-Key as a random seeded user, at K6_RATE per second.
//   k6 run -e K6_RATE=100 -e K6_DURATION=60s -e LOAD_TEST_SECRET=… perf/k6/posts.js
import { arrivalScenario, optionsFor, setupRun } from "./lib.js";

export { handleSummary, replacedScenarios as default, teardown, writePost } from "./lib.js";

export const options = optionsFor({ posts: arrivalScenario("writePost") });

export function setup() {
  return setupRun();
}
