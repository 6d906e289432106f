import { mkdirSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { waitFor } from "../../db/testing.ts";

// Processes for the scale-out runs (perf/cluster.ts, e2e/cluster.e2e.test.ts): Redis servers (a
// cluster of masters, or one standalone), api and projector processes, all on loopback, all
// children of this process, each stopped by its own pid. Logs go to files under `dir`.

const ROOT = join(import.meta.dir, "..", "..");

export interface Proc {
  name: string;
  proc: Subprocess;
  log: string;
}

export class Stack {
  private readonly procs: Proc[] = [];
  private readonly onExit = () => {
    // The parent is going away: leave no children behind (each by its own pid).
    for (const p of this.procs) if (p.proc.exitCode === null) p.proc.kill("SIGKILL");
  };

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    process.once("exit", this.onExit);
  }

  /** The newest process started under `name`, if any. */
  get(name: string): Proc | undefined {
    return this.procs.findLast((p) => p.name === name);
  }

  /** Starts a child with stdout and stderr to `<dir>/<name>.log`. */
  spawn(name: string, cmd: string[], env: Record<string, string | undefined> = {}, cwd = ROOT): Proc {
    const log = join(this.dir, `${name}.log`);
    const fd = openSync(log, "a");
    const proc = Bun.spawn(cmd, { cwd, env: cleanEnv(env), stdout: fd, stderr: fd, stdin: "ignore" });
    const p = { name, proc, log };
    this.procs.push(p);
    return p;
  }

  /** Redis servers, each in the foreground as our child; cluster-enabled when `cluster`. */
  startRedis(ports: readonly number[], opts: { cluster: boolean }): void {
    for (const port of ports) {
      const dir = join(this.dir, `redis-${port}`);
      mkdirSync(dir, { recursive: true });
      // Streams' Redis as docs/architecture.md §4 runs it: appendonly, noeviction (AOF fsync once
      // a second).
      this.spawn(`redis-${port}`, [
        "redis-server",
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        dir,
        "--save",
        "",
        "--appendonly",
        "yes",
        "--maxmemory-policy",
        "noeviction",
        ...(opts.cluster
          ? ["--cluster-enabled", "yes", "--cluster-config-file", join(dir, "nodes.conf")]
          : []),
      ]);
    }
  }

  /** Waits for every server, then makes them one cluster of masters and waits for state ok. */
  async createCluster(ports: readonly number[]): Promise<void> {
    for (const port of ports)
      await waitFor(() => redisCli(port, "ping") === "PONG", 10_000, `redis :${port}`);
    const create = Bun.spawnSync(
      [
        "redis-cli",
        "--cluster",
        "create",
        ...ports.map((p) => `127.0.0.1:${p}`),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    if (create.exitCode !== 0)
      throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`.slice(0, 2000));
    for (const port of ports)
      await waitFor(
        () => /cluster_state:ok/.test(redisCli(port, "cluster", "info")),
        20_000,
        `cluster state ok on :${port}`,
      );
  }

  /** A service (api or projector) from this checkout; ready when `readyUrl` answers 200. */
  async startService(
    name: string,
    entry: string,
    env: Record<string, string | undefined>,
    readyUrl: string,
  ): Promise<Proc> {
    const p = this.spawn(name, ["bun", entry], env);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (p.proc.exitCode !== null) break;
      const ok = await fetch(readyUrl, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return p;
      await Bun.sleep(100);
    }
    const tail = (await Bun.file(p.log).text()).split("\n").slice(-20).join("\n");
    throw new Error(`${name} did not become ready at ${readyUrl} (log ${p.log}):\n${tail}`);
  }

  /** CPU seconds (user + system) each running child has used so far, by name (Linux /proc). */
  cpuSeconds(): Map<string, number> {
    const hz = 100; // USER_HZ, 100 on Linux
    const out = new Map<string, number>();
    for (const p of this.procs) {
      try {
        const stat = readFileSync(`/proc/${p.proc.pid}/stat`, "utf8");
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        out.set(p.name, (Number(f[11]) + Number(f[12])) / hz);
      } catch {
        // exited, or no /proc: not reported
      }
    }
    return out;
  }

  /** SIGTERM to each named process (all when none named), SIGKILL after 10 s; waits for exit. */
  async stop(names?: readonly string[]): Promise<void> {
    const chosen = this.procs.filter((p) => !names || names.includes(p.name));
    await Promise.all(
      chosen.map(async (p) => {
        if (p.proc.exitCode === null && p.proc.signalCode === null) {
          p.proc.kill("SIGTERM");
          const killed = setTimeout(() => p.proc.kill("SIGKILL"), 10_000);
          await p.proc.exited;
          clearTimeout(killed);
        }
      }),
    );
    for (const p of chosen) this.procs.splice(this.procs.indexOf(p), 1);
    if (!names) process.off("exit", this.onExit);
  }
}

/** The children's environment: ours, minus anything naming another Redis, plus `env`. */
function cleanEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/^(TEST_)?REDIS_(URL|CLUSTER_NODES)$/.test(k)) out[k] = v;
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

export function redisCli(port: number, ...args: string[]): string {
  const r = Bun.spawnSync(["redis-cli", "-h", "127.0.0.1", "-p", String(port), ...args], {
    stdout: "pipe",
    stderr: "pipe",
  });
  return r.stdout.toString().trim();
}

/** Whether something already listens on a loopback port (a run must not reuse another's). */
export async function portInUse(port: number): Promise<boolean> {
  try {
    const s = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    s.end();
    return true;
  } catch {
    return false;
  }
}

// One polling helper for tests and these runs alike.
export { waitFor };
