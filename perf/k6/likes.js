// POST /likes on posts collected in setup (the first seeded users' newest posts), as a random
// seeded user, at K6_RATE per second. A user liking a post twice gets 200, which counts as success.
//   k6 run -e K6_RATE=100 -e K6_DURATION=60s -e LOAD_TEST_SECRET=… perf/k6/likes.js
import { arrivalScenario, optionsFor, setupRun } from "./lib.js";

export { handleSummary, likePost, replacedScenarios as default, teardown } from "./lib.js";

export const options = optionsFor({ likes: arrivalScenario("likePost") });

export function setup() {
  return setupRun({ needPosts: true });
}
