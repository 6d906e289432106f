import { describe, expect, test } from "bun:test";
import { parseConfig } from "../core/config.ts";
import { type BudgetLine, connectionsPerProcess, planConnections, plannedPoolSize } from "./pool-budget.ts";

// With every replica up and every pool full, PostgreSQL must still have a connection left:
// for compose.yml (its replicas, the environment it passes, the postgres service's
// max_connections) and for the native ./dev (the stack, a test run and the cluster run at once).

const root = `${import.meta.dir}/..`;
// biome-ignore lint/suspicious/noExplicitAny: parsed YAML, read field by field
const compose: any = Bun.YAML.parse(await Bun.file(`${root}/compose.yml`).text());
const devScript = await Bun.file(`${root}/dev`).text();

/** compose's `${VAR:-default}` with nothing set: what `task up` runs without a .env. */
const interpolate = (v: unknown) =>
  String(v).replace(/\$\{[A-Z0-9_]+(?::?-([^}]*))?\}/g, (_m, def: string | undefined) => def ?? "");

function serviceConfig(name: string, overrides: Record<string, string> = {}) {
  const env = Object.fromEntries(
    Object.entries<unknown>(compose.services[name].environment ?? {}).map(([k, v]) => [k, interpolate(v)]),
  );
  return parseConfig({ ...env, ...overrides });
}

const replicas = (name: string): number => compose.services[name].deploy?.replicas ?? 1;

/** `-c max_connections=N` on a command line, else PostgreSQL's default. */
function maxConnectionsOf(command: string): number {
  const m = /max_connections=(\d+)/.exec(command);
  return m ? Number(m[1]) : 100;
}

// Connections outside the services' pools, at most: migrations (db/migrate-cli.ts, 1), the seeder
// (perf/seed.ts: 2 + 1), the PostgreSQL exporter (1), operators' CLIs (reconcile, dlq: 2) and a
// few psql sessions.
const TOOLS: BudgetLine[] = [
  { name: "migrate", replicas: 1, each: 1 },
  { name: "seed", replicas: 1, each: 3 },
  { name: "postgres-exporter", replicas: 1, each: 1 },
  { name: "operators (CLIs, psql)", replicas: 1, each: 6 },
];

/**
 * An integration run against the same server: openTestDb's pool (8), the extra pools some
 * suites open (db.integration: 5), and the api the graceful-shutdown test starts as a process.
 */
const testRun = (pool: number): BudgetLine => ({
  name: "integration tests",
  replicas: 1,
  each: 8 + 5 + connectionsPerProcess({ DATABASE_POOL_SIZE: pool }).api,
});

function composeBudget(overrides: Record<string, string> = {}) {
  const api = connectionsPerProcess(serviceConfig("api", overrides));
  const projector = connectionsPerProcess(serviceConfig("projector", overrides));
  return planConnections(maxConnectionsOf(compose.services.postgres.command.join(" ")), [
    { name: "api", replicas: replicas("api"), each: api.api },
    { name: "projector", replicas: replicas("projector"), each: projector.projector },
    // `task test:*` runs the suites against this same PostgreSQL (the tests profile).
    testRun(parseConfig({}).DATABASE_POOL_SIZE),
    ...TOOLS,
  ]);
}

function devBudget(pool = parseConfig({}).DATABASE_POOL_SIZE) {
  // perf/cluster.ts (./dev cluster) and e2e/cluster.e2e.test.ts start two apis and two
  // projectors of their own beside the ./dev stack, with at most the default pool.
  const each = connectionsPerProcess({ DATABASE_POOL_SIZE: pool });
  return planConnections(maxConnectionsOf(devScript), [
    { name: "api (./dev up)", replicas: 1, each: each.api },
    { name: "projector (./dev up)", replicas: 1, each: each.projector },
    { name: "cluster apis", replicas: 2, each: each.api },
    { name: "cluster projectors", replicas: 2, each: each.projector },
    { name: "cluster and bench scripts", replicas: 1, each: 4 },
    testRun(pool),
    ...TOOLS,
  ]);
}

describe("PostgreSQL connection budget", () => {
  test("the api holds its pool and a hydration pool of half its size", () => {
    expect(plannedPoolSize(10)).toBe(5);
    expect(plannedPoolSize(1)).toBe(2);
    expect(connectionsPerProcess({ DATABASE_POOL_SIZE: 10 })).toEqual({ api: 15, projector: 10 });
  });

  test("compose.yml: every replica's pools fit under the postgres service's max_connections", () => {
    expect(replicas("api")).toBe(2);
    const budget = composeBudget();
    expect(budget.available).toBe(200 - 3);
    expect([budget.ok, budget.summary]).toEqual([true, budget.summary]);
  });

  test("the native ./dev: the stack, a test run and the cluster run together fit under its max_connections", () => {
    expect(maxConnectionsOf(devScript)).toBe(200);
    const budget = devBudget();
    expect([budget.ok, budget.summary]).toEqual([true, budget.summary]);
  });

  test("raising DATABASE_POOL_SIZE too far breaks the budget, naming every line", () => {
    const compose = composeBudget({ DATABASE_POOL_SIZE: "40" });
    expect(compose.ok).toBe(false);
    expect(compose.summary).toContain("api: 2 × 60 = 120");
    expect(devBudget(30).ok).toBe(false);
  });

  test("without -c max_connections PostgreSQL's default of 100 is assumed", () => {
    expect(maxConnectionsOf("postgres -c shared_buffers=256MB")).toBe(100);
    expect(planConnections(100, [{ name: "api", replicas: 7, each: 15 }]).ok).toBe(false);
  });
});
