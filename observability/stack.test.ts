import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { CONFIG_VARIABLES } from "../core/config.ts";

// Static checks that keep compose.yml, the Taskfile, .env.example, both Prometheus files and the
// Grafana dashboard true to each other and to the code, on a machine without Docker.
// (`docker-compose config -q` checks compose's own syntax in ./dev test.)

const root = `${import.meta.dir}/..`;
// biome-ignore lint/suspicious/noExplicitAny: parsed YAML is checked field by field below
const yaml = async (path: string): Promise<any> => Bun.YAML.parse(await Bun.file(`${root}/${path}`).text());

const compose = await yaml("compose.yml");
const taskfile = await yaml("Taskfile.yml");
const services = Object.keys(compose.services);
const devCommands = [...(await Bun.file(`${root}/dev`).text()).matchAll(/^ {2}([a-z|-]+)\) /gm)].flatMap(
  (m) => m[1]!.split("|"),
);
const scripts = Object.keys((await Bun.file(`${root}/package.json`).json()).scripts);

/** `VAR=value` lines of .env.example, split at its "compose only" heading. */
const envExample = await Bun.file(`${root}/.env.example`).text();
const [serviceSection, composeSection = ""] = envExample.split(/^# --- compose only.*$/m);
const names = (text: string) => [...text.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);

/** What is wrong with a Taskfile's tasks: commands naming no compose service, ./dev command or script. */
function taskProblems(tasks: Record<string, { cmds: string[] }>): string[] {
  const problems: string[] = [];
  for (const [name, task] of Object.entries<{ cmds: string[] }>(tasks)) {
    if (task.cmds.length === 0) problems.push(`${name}: no commands`);
    for (const cmd of task.cmds) {
      const words = cmd.split(/\s+/).filter((w) => !w.startsWith("{{"));
      // Positional words only: flags, and the value of `--profile NAME`, are dropped.
      const args = words.filter((w, i) => !w.startsWith("-") && words[i - 1] !== "--profile");
      if (cmd.startsWith("docker compose ")) {
        const verb = args[2];
        // `run SERVICE [bun run SCRIPT]`, `logs SERVICE…`; `up`/`down` take the whole file.
        const named = verb === "run" ? args.slice(3, 4) : verb === "logs" ? args.slice(3) : [];
        if (!["run", "logs", "up", "down"].includes(verb!)) problems.push(`${name}: unexpected ${cmd}`);
        if (verb === "run" && named.length !== 1) problems.push(`${name}: run names no service`);
        for (const s of named) if (!services.includes(s)) problems.push(`${name}: no compose service ${s}`);
        if (verb === "run" && args[4] === "bun" && args[5] === "run" && !scripts.includes(args[6]!))
          problems.push(`${name}: no package script ${args[6]}`);
      } else if (cmd.startsWith("./dev ")) {
        if (!devCommands.includes(args[1]!)) problems.push(`${name}: ./dev has no command ${args[1]}`);
      } else if (cmd.startsWith("bun run ")) {
        if (!scripts.includes(args[2]!)) problems.push(`${name}: no package script ${args[2]}`);
      } else problems.push(`${name}: unknown command ${cmd}`);
    }
  }
  return problems;
}

describe("Taskfile.yml", () => {
  test("has the brief's tasks", () => {
    expect(Object.keys(taskfile.tasks)).toEqual(
      expect.arrayContaining([
        "up",
        "down",
        "seed",
        "test:unit",
        "test:integration",
        "test:e2e",
        "test:load",
        "up:native",
        "test",
        "check",
      ]),
    );
  });

  test("every command names a real compose service, ./dev command or package script", () => {
    expect(taskProblems(taskfile.tasks)).toEqual([]);
  });

  test("the check fails on a task that names nothing real", () => {
    const bogus = { cmds: ["docker compose --profile x run --rm nosuch", "./dev nocmd", "bun run nosuch"] };
    expect(taskProblems({ bogus })).toEqual([
      "bogus: no compose service nosuch",
      "bogus: ./dev has no command nocmd",
      "bogus: no package script nosuch",
    ]);
  });
});

describe("compose.yml", () => {
  test("has the brief's services, the api as two replicas", () => {
    expect(services).toEqual(
      expect.arrayContaining([
        "api",
        "projector",
        "postgres",
        "redis",
        "minio",
        "minio-bucket",
        "mock-idp",
        "prometheus",
        "grafana",
        "postgres-exporter",
        "redis-exporter",
        "load-generator",
      ]),
    );
    expect(compose.services.api.deploy.replicas).toBe(2);
    expect(compose.services["load-generator"].profiles).toEqual(["load"]);
    expect(compose.services.redis.command.join(" ")).toContain(
      "--appendonly yes --maxmemory-policy noeviction",
    );
  });

  test("long-running services have healthchecks and every dependency exists", () => {
    const oneShot = ["minio-bucket", "migrate", "seed", "load-generator", "tests"];
    for (const [name, svc] of Object.entries<Record<string, unknown>>(compose.services)) {
      if (!oneShot.includes(name)) expect([name, Boolean(svc.healthcheck)]).toEqual([name, true]);
      for (const dep of Object.keys((svc.depends_on as object) ?? {})) expect(services).toContain(dep);
      for (const v of (svc.volumes as string[]) ?? []) {
        const source = v.split(":")[0]!;
        // A bind mount names a file or folder of this repository; anything else a named volume.
        if (source.startsWith(".")) expect([v, existsSync(`${root}/${source}`)]).toEqual([v, true]);
        else expect(Object.keys(compose.volumes)).toContain(source);
      }
    }
  });

  test("passes the services only variables the config module knows", () => {
    for (const name of ["api", "projector", "migrate", "seed"]) {
      const unknown = Object.keys(compose.services[name].environment).filter(
        (k) => !CONFIG_VARIABLES.includes(k),
      );
      expect([name, unknown]).toEqual([name, []]);
    }
  });

  test("every $VARIABLE it interpolates is in .env.example", async () => {
    const text = await Bun.file(`${root}/compose.yml`).text();
    const used = new Set([...text.matchAll(/(?<!\$)\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]!));
    const listed = new Set(names(envExample));
    expect([...used].filter((v) => !listed.has(v))).toEqual([]);
  });
});

describe(".env.example", () => {
  test("lists every service variable, and no variable the services do not read", () => {
    const listed = names(serviceSection!);
    expect(listed.filter((v) => !CONFIG_VARIABLES.includes(v))).toEqual([]);
    expect(CONFIG_VARIABLES.filter((v) => !listed.includes(v))).toEqual([]);
    expect(names(composeSection).length).toBeGreaterThan(0);
  });
});

describe("Prometheus and Grafana", () => {
  test("the native and the compose Prometheus scrape the same jobs with the same rules", async () => {
    const native = await yaml("observability/prometheus.yml");
    const inCompose = await yaml("observability/prometheus.compose.yml");
    const jobs = (c: { scrape_configs: { job_name: string }[] }) =>
      c.scrape_configs.map((j) => j.job_name).sort();
    expect(jobs(native)).toEqual(["api", "postgres", "projector", "redis"]);
    expect(jobs(inCompose)).toEqual(jobs(native));
    expect(inCompose.rule_files).toEqual(native.rule_files);
  });

  test("the dashboard is well formed and reads the provisioned datasource", async () => {
    const dashboard = await Bun.file(`${root}/observability/grafana/dashboards/feed-overview.json`).json();
    const ds = await yaml("observability/grafana/provisioning/datasources/prometheus.yml");
    const provider = await yaml("observability/grafana/provisioning/dashboards/feed.yml");
    const uid = ds.datasources[0].uid;
    // biome-ignore lint/suspicious/noExplicitAny: dashboard JSON
    const panels: any[] = dashboard.panels;
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const p of panels) {
      expect(p.datasource.uid).toBe(uid);
      expect(p.description.length).toBeGreaterThan(20);
      expect(p.targets.length).toBeGreaterThan(0);
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      for (const t of p.targets) expect(t.expr.length).toBeGreaterThan(0);
    }
    const titles = panels.map((p) => p.title.toLowerCase()).join(" | ");
    for (const want of [
      "latency",
      "requests per second",
      "error",
      "backlog",
      "cache",
      "fan-out",
      "dead-letter",
      "events",
      "postgresql",
      "redis",
    ])
      expect(titles).toContain(want);
    // Grafana reads the dashboards where compose mounts them.
    const mount = compose.services.grafana.volumes.find((v: string) => v.includes("dashboards"));
    expect(mount.split(":")[1]).toBe(provider.providers[0].options.path);
  });
});
