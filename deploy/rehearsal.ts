import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import postgres from "postgres";
import S3rver from "s3rver";
import { PgServer } from "../perf/chaos/pg-server.ts";

// The compose rehearsal: compose.yml as `docker-compose config` resolves it (every profile,
// interpolated with .env.example alone), its project-image services started natively with
// exactly their command and environment, each in a network namespace of its own where compose's
// host names resolve as in compose's network. There is no Docker engine here, so this is how
// compose's own settings get run: a setting that makes a service exit, a healthcheck that can
// never pass, a depends_on cycle or a command naming a missing file fails it.
//
// Not rehearsed: the images themselves (the tree stands in for /app), the other images (nginx,
// MinIO, Prometheus, Grafana, exporters, k6: PostgreSQL, Redis and s3rver stand in for the
// first three it needs), and replicas (one of each).
//
// Run: bun deploy/rehearsal.ts (root: it makes network namespaces), or in ./dev test through
// deploy/rehearsal.integration.test.ts.

const root = join(import.meta.dir, "..");
const SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin";

/** A command as the image runs it: its `bun` is the bun running this. */
const withBun = (argv: string[]) => (argv[0] === "bun" ? [process.execPath, ...argv.slice(1)] : argv);

export interface Healthcheck {
  test?: string[] | string;
  interval?: string;
  timeout?: string;
  retries?: number;
  disable?: boolean;
}

export interface Service {
  image?: string;
  build?: string | { context?: string; target?: string };
  command?: string[] | string;
  environment?: Record<string, string | null>;
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: Healthcheck;
  profiles?: string[];
  network_mode?: string;
}

export interface Compose {
  services: Record<string, Service>;
}

/**
 * `docker-compose config` with every profile, interpolated with `envFile` and `overrides` only:
 * not with this process's environment, which ./dev fills with its own settings.
 */
export function composeConfig(
  envFile = join(root, ".env.example"),
  overrides: Record<string, string> = {},
): Compose {
  const profiles = ["tools", "load", "test"].flatMap((p) => ["--profile", p]);
  const bin = Bun.which("docker-compose");
  if (!bin) throw new Error("docker-compose is not installed (./dev installs it)");
  const r = Bun.spawnSync(
    [
      bin,
      "--project-directory",
      root,
      "-f",
      join(root, "compose.yml"),
      "--env-file",
      envFile,
      ...profiles,
      "config",
    ],
    {
      // Nothing of this process's environment: only the overrides may interpolate.
      env: { PATH: SYSTEM_PATH, HOME: tmpdir(), ...overrides },
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  if (r.exitCode !== 0) throw new Error(`docker-compose config failed: ${r.stderr.toString().trim()}`);
  return Bun.YAML.parse(r.stdout.toString()) as Compose;
}

interface Stage {
  env: Record<string, string>;
  cmd?: string[];
  /** What the stage copies into its WORKDIR; "." for the whole tree. */
  copies: string[];
}

/** The Dockerfile's stages: ENV, CMD and COPY destinations, as far as a rehearsal needs them. */
export function dockerfileStages(text: string): Map<string, Stage> {
  const stages = new Map<string, Stage>();
  let stage: Stage | undefined;
  for (const raw of text.replace(/\\\n/g, " ").split("\n")) {
    const line = raw.trim();
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) {
      stage = { env: {}, copies: [] };
      if (from[1]) stages.set(from[1], stage);
      continue;
    }
    if (!stage) continue;
    const env = /^ENV\s+([A-Za-z_][A-Za-z0-9_]*)=(\S*)/.exec(line);
    if (env) stage.env[env[1]!] = env[2]!;
    const cmd = /^CMD\s+(\[.*\])$/.exec(line);
    if (cmd) stage.cmd = JSON.parse(cmd[1]!) as string[];
    const copy = /^COPY\s+(.*)$/.exec(line);
    if (copy) {
      const words = copy[1]!.split(/\s+/).filter((w) => !w.startsWith("--"));
      const dest = words[words.length - 1]!;
      stage.copies.push(
        dest === "." && words[0] === "." ? "." : dest.replace(/^\.\//, "").replace(/\/$/, ""),
      );
    }
  }
  return stages;
}

const targetOf = (s: Service) =>
  typeof s.build === "object" ? (s.build.target ?? "") : s.build ? "" : undefined;
const dependencies = (s: Service): Record<string, string> =>
  Array.isArray(s.depends_on)
    ? Object.fromEntries(s.depends_on.map((d) => [d, "service_started"]))
    : Object.fromEntries(
        Object.entries(s.depends_on ?? {}).map(([d, c]) => [d, c.condition ?? "service_started"]),
      );

/** The argv a project-image service runs: compose's command, else its stage's CMD. */
function argvOf(s: Service, stages: Map<string, Stage>): string[] | undefined {
  if (Array.isArray(s.command)) return s.command;
  if (typeof s.command === "string") return s.command.split(/\s+/).filter(Boolean);
  return stages.get(targetOf(s) ?? "")?.cmd;
}

/** Services in an order where each comes after what it depends on; throws on a cycle. */
export function startOrder(compose: Compose): string[] {
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, path: string[]) => {
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting") throw new Error(`depends_on cycle: ${[...path, name].join(" → ")}`);
    state.set(name, "visiting");
    for (const dep of Object.keys(dependencies(compose.services[name] ?? {}))) visit(dep, [...path, name]);
    state.set(name, "done");
    order.push(name);
  };
  for (const name of Object.keys(compose.services)) visit(name, []);
  return order;
}

/** What is wrong without running anything: unknown or cyclic dependencies, commands naming nothing. */
export function staticProblems(
  compose: Compose,
  dockerfile = readFileSync(join(root, "Dockerfile"), "utf8"),
): string[] {
  const problems: string[] = [];
  const stages = dockerfileStages(dockerfile);
  const scripts = Object.keys(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).scripts ?? {});
  for (const [name, s] of Object.entries(compose.services)) {
    for (const dep of Object.keys(dependencies(s)))
      if (!compose.services[dep]) problems.push(`${name}: depends on ${dep}, which is no service`);
    const target = targetOf(s);
    if (target === undefined) continue;
    const stage = stages.get(target);
    if (!stage) {
      problems.push(`${name}: builds the stage "${target}", which the Dockerfile does not have`);
      continue;
    }
    const argv = argvOf(s, stages);
    if (!argv?.length) {
      problems.push(`${name}: no command, and its stage has no CMD`);
      continue;
    }
    if (argv[0] !== "bun") continue;
    if (argv[1] === "run") {
      if (!scripts.includes(argv[2] ?? ""))
        problems.push(`${name}: bun run ${argv[2]}: no such script in package.json`);
    } else if (argv[1] && /\.(ts|js)$/.test(argv[1])) {
      const file = argv[1].replace(/^\.\//, "");
      if (!existsSync(join(root, file))) problems.push(`${name}: ${file} does not exist`);
      else if (
        !stage.copies.includes(".") &&
        !stage.copies.some((c) => file === c || file.startsWith(`${c}/`))
      )
        problems.push(`${name}: ${file} is not in the "${target}" image (its COPY lines leave it out)`);
    }
  }
  try {
    startOrder(compose);
  } catch (e) {
    problems.push((e as Error).message);
  }
  return problems;
}

const seconds = (d: string | undefined, fallback: number) => {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(d ?? "");
  if (!m) return fallback;
  const n = Number(m[1]);
  return m[2] === "ms" ? n / 1000 : m[2] === "m" ? n * 60 : n;
};

/** A bridge with one network namespace per service; /etc/netns/<ns>/hosts maps compose's names. */
class Network {
  readonly tag = 1 + Math.floor(Math.random() * 250);
  readonly gateway = `10.213.${this.tag}.1`;
  private readonly bridge = `rhbr${this.tag}`;
  private readonly spaces = new Map<string, { ns: string; ip: string }>();

  constructor(private readonly services: string[]) {}

  ns(service: string): string {
    return this.spaces.get(service)!.ns;
  }

  create(infraNames: string[]): void {
    ip("link", "add", this.bridge, "type", "bridge");
    ip("addr", "add", `${this.gateway}/24`, "dev", this.bridge);
    ip("link", "set", this.bridge, "up");
    this.services.forEach((service, i) => {
      const ns = `feedrh${this.tag}-${i}`;
      const ipAddr = `10.213.${this.tag}.${10 + i}`;
      this.spaces.set(service, { ns, ip: ipAddr });
      const outside = `rh${this.tag}v${i}`;
      ip("netns", "add", ns);
      ip("link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", ns);
      ip("link", "set", outside, "master", this.bridge, "up");
      ip("-n", ns, "addr", "add", `${ipAddr}/24`, "dev", "eth0");
      ip("-n", ns, "link", "set", "eth0", "up");
      ip("-n", ns, "link", "set", "lo", "up");
    });
    const hosts = [
      "127.0.0.1 localhost",
      `${this.gateway} ${infraNames.join(" ")}`,
      ...[...this.spaces].map(([service, s]) => `${s.ip} ${service}`),
    ].join("\n");
    for (const { ns } of this.spaces.values()) {
      mkdirSync(`/etc/netns/${ns}`, { recursive: true });
      writeFileSync(`/etc/netns/${ns}/hosts`, `${hosts}\n`);
    }
  }

  destroy(): void {
    for (const { ns } of this.spaces.values()) {
      Bun.spawnSync(["ip", "netns", "del", ns]);
      rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
    }
    Bun.spawnSync(["ip", "link", "del", this.bridge]);
  }
}

function ip(...args: string[]): void {
  const r = Bun.spawnSync(["ip", ...args], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.toString().trim()}`);
}

export interface RehearsalOptions {
  /** Rehearse only these services and what they depend on. */
  only?: string[];
  log?: (line: string) => void;
}

/**
 * Starts compose's project-image services natively, in dependency order, each in its own
 * network namespace, and waits for each one's healthcheck (or, without one, for it to exit 0).
 * Returns what went wrong; empty when every service came up.
 */
export async function rehearse(compose: Compose, o: RehearsalOptions = {}): Promise<string[]> {
  const log = o.log ?? (() => {});
  const found = staticProblems(compose);
  if (found.length > 0) return found;
  const stages = dockerfileStages(readFileSync(join(root, "Dockerfile"), "utf8"));
  let order = startOrder(compose);
  if (o.only) {
    const wanted = new Set<string>();
    const add = (n: string) => {
      if (wanted.has(n)) return;
      wanted.add(n);
      for (const d of Object.keys(dependencies(compose.services[n]!))) add(d);
    };
    for (const n of o.only) add(n);
    order = order.filter((n) => wanted.has(n));
  }
  const ours = order.filter((n) => targetOf(compose.services[n]!) !== undefined);
  const net = new Network(ours.filter((n) => compose.services[n]!.network_mode !== "host"));
  const dir = `/tmp/feed-rehearsal-${net.tag}-${process.pid}`;
  mkdirSync(dir, { recursive: true });
  const running: { name: string; proc: Bun.Subprocess }[] = [];
  const problems: string[] = [];
  let pg: PgServer | undefined;
  let redis: Bun.Subprocess | undefined;
  let s3: S3rver | undefined;
  try {
    net.create(["postgres", "redis", "minio"]);
    // The infrastructure compose runs from other images, on the bridge's address at compose's
    // ports: PostgreSQL with compose's database and init script, Redis, and an S3 API with the
    // bucket minio-bucket makes.
    const pgEnv = compose.services.postgres?.environment ?? {};
    pg = new PgServer(join(dir, "postgres"), 5432, net.gateway);
    pg.init();
    pg.start();
    const admin = postgres(`postgres://feed@${net.gateway}:5432/postgres`, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`CREATE DATABASE ${pgEnv.POSTGRES_DB ?? "feed"} OWNER feed`);
      await admin.unsafe(readFileSync(join(root, "deploy/postgres-init.sql"), "utf8"));
    } finally {
      await admin.end();
    }
    // Protected mode off, as in the redis image: the bridge is this machine's alone.
    const redisArgs = [
      "--bind",
      net.gateway,
      "--port",
      "6379",
      "--protected-mode",
      "no",
      "--save",
      "",
      "--dir",
      dir,
    ];
    redis = Bun.spawn(["redis-server", ...redisArgs], {
      stdout: Bun.file(join(dir, "redis.log")),
      stderr: "inherit",
    });
    const bucket = compose.services["minio-bucket"]?.environment?.S3_BUCKET ?? "feed-media";
    s3 = new S3rver({
      port: 9000,
      address: net.gateway,
      silent: true,
      directory: join(dir, "s3"),
      configureBuckets: [{ name: bucket, configs: [] }],
    });
    await s3.run();
    log(`infrastructure on ${net.gateway}: postgres:5432, redis:6379, minio:9000 (bucket ${bucket})`);

    for (const name of ours) {
      const s = compose.services[name]!;
      const stage = stages.get(targetOf(s)!)!;
      const argv = argvOf(s, stages)!;
      const env: Record<string, string> = {
        PATH: `${dirname(process.execPath)}:${SYSTEM_PATH}`,
        HOME: dir,
        ...stage.env,
        ...Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, v ?? ""])),
      };
      // Exactly the service's environment, in its namespace (host networking: none).
      const inService = ["env", "-i", ...Object.entries(env).map(([k, v]) => `${k}=${v}`)];
      if (s.network_mode !== "host") inService.unshift("ip", "netns", "exec", net.ns(name));
      const wrap = (cmd: string[]) => [...inService, ...withBun(cmd)];
      const logFile = join(dir, `${name}.log`);
      const started = performance.now();
      const proc = Bun.spawn(wrap(argv), {
        cwd: root,
        stdout: Bun.file(logFile),
        stderr: Bun.file(`${logFile}.err`),
      });
      running.push({ name, proc });
      const tail = () =>
        [logFile, `${logFile}.err`]
          .map((f) => (existsSync(f) ? readFileSync(f, "utf8") : ""))
          .join("")
          .trim()
          .split("\n")
          .slice(-5)
          .join("\n");
      const hc = s.healthcheck;
      if (!hc?.test || hc.disable) {
        // No healthcheck: a one-shot job, which must end well for what waits on it.
        const code = await Promise.race([proc.exited, Bun.sleep(300_000).then(() => "timeout" as const)]);
        if (code !== 0) {
          problems.push(
            `${name}: ${code === "timeout" ? "still running after 300 s" : `exited with code ${code}`}\n${tail()}`,
          );
          break;
        }
        log(`${name}: exited 0 after ${Math.round(performance.now() - started)} ms`);
        continue;
      }
      const test = Array.isArray(hc.test) ? hc.test : ["CMD-SHELL", hc.test];
      const check = test[0] === "CMD-SHELL" ? ["sh", "-c", test.slice(1).join(" ")] : test.slice(1);
      // Compose calls a service unhealthy after `retries` failures, `interval` apart.
      const deadline =
        performance.now() + (seconds(hc.interval, 30) * (hc.retries ?? 3) + seconds(hc.timeout, 30)) * 1000;
      let healthy = false;
      while (!healthy && performance.now() < deadline && proc.exitCode === null) {
        const probe = Bun.spawn(wrap(check), {
          cwd: root,
          stdout: "ignore",
          stderr: "ignore",
        });
        const code = await Promise.race([
          probe.exited,
          Bun.sleep(seconds(hc.timeout, 30) * 1000).then(() => -1),
        ]);
        if (code === -1) probe.kill();
        healthy = code === 0;
        if (!healthy) await Bun.sleep(250);
      }
      if (!healthy) {
        problems.push(
          proc.exitCode !== null
            ? `${name}: exited with code ${proc.exitCode} before its healthcheck passed\n${tail()}`
            : `${name}: its healthcheck never passed (${check.join(" ")})\n${tail()}`,
        );
        break;
      }
      log(`${name}: healthy after ${Math.round(performance.now() - started)} ms`);
    }
  } finally {
    for (const { proc } of running.reverse()) {
      proc.kill("SIGTERM");
      await Promise.race([proc.exited, Bun.sleep(5000).then(() => proc.kill("SIGKILL"))]);
    }
    await s3?.close().catch(() => {});
    redis?.kill();
    await redis?.exited;
    try {
      if (pg?.running()) pg.stop("immediate");
    } catch {
      // Gone already: nothing to stop.
    }
    net.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  return problems;
}

if (import.meta.main) {
  const problems = await rehearse(composeConfig(join(root, ".env.example"), { SEED_USERS: "2000" }), {
    log: (l) => console.log(l),
  });
  for (const p of problems) console.error(`rehearsal: ${p}`);
  console.log(problems.length === 0 ? "rehearsal: every project-image service came up" : "rehearsal: failed");
  process.exit(problems.length === 0 ? 0 : 1);
}
