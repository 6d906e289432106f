import { describe, expect, test } from "bun:test";
import { type Compose, composeConfig, rehearse, staticProblems } from "./rehearsal.ts";

// compose.yml's project-image services, started natively with exactly their command and
// environment (deploy/rehearsal.ts), and the rehearsal failing on each kind of breakage.

// `task seed` seeds a million users; the rehearsal runs the same command with 2 000.
const config = () => composeConfig(undefined, { SEED_USERS: "2000" });
const copy = (c: Compose): Compose => structuredClone(c);

// It makes network namespaces (root) and reads compose through docker-compose: ./dev test and CI
// have both. `task test:integration` runs in compose's unprivileged test container, which has
// neither, and where compose itself is what runs.
const unable = process.getuid?.() !== 0 || !Bun.which("docker-compose");

describe.skipIf(unable)("the compose rehearsal", () => {
  test("every project-image service of every profile comes up: migrate, mock-idp, api, projector, seed, tests", async () => {
    const lines: string[] = [];
    const problems = await rehearse(config(), { log: (l) => lines.push(l) });
    expect(problems).toEqual([]);
    for (const s of ["migrate", "seed", "tests"])
      expect(lines.some((l) => l.startsWith(`${s}: exited 0`))).toBe(true);
    for (const s of ["mock-idp", "api", "projector"])
      expect(lines.some((l) => l.startsWith(`${s}: healthy`))).toBe(true);
  }, 180_000);

  test("a depends_on cycle, a missing file, a file the image leaves out, an unknown script", () => {
    const c = copy(config());
    c.services.postgres!.depends_on = { api: { condition: "service_healthy" } };
    c.services["mock-idp"]!.command = ["bun", "e2e/mock-idp/gone.ts"];
    c.services.projector!.command = ["bun", "e2e/mock-idp/main.ts"]; // the runtime image ships no e2e/
    c.services.tests!.command = ["bun", "run", "test:nothing"];
    const problems = staticProblems(c);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^depends_on cycle: .*postgres → api/),
        "mock-idp: e2e/mock-idp/gone.ts does not exist",
        'projector: e2e/mock-idp/main.ts is not in the "runtime" image (its COPY lines leave it out)',
        "tests: bun run test:nothing: no such script in package.json",
      ]),
    );
  });

  test("a setting that makes a service exit: the api given NODE_ENV=production beside compose's development secrets", async () => {
    const c = copy(config());
    c.services.api!.environment!.NODE_ENV = "production";
    const problems = await rehearse(c, { only: ["api"] });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^api: exited with code \d+ before its healthcheck passed/);
    expect(problems[0]).toContain("production");
  }, 120_000);

  test("a healthcheck that can never pass", async () => {
    const c = copy(config());
    const hc = c.services.projector!.healthcheck!;
    hc.test = (hc.test as string[]).map((a) => a.replace("127.0.0.1:9101", "127.0.0.1:9999"));
    hc.interval = "1s";
    hc.retries = 2;
    const problems = await rehearse(c, { only: ["projector"] });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^projector: its healthcheck never passed .*9999/);
  }, 120_000);
});
