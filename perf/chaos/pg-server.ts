import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

// A PostgreSQL server of the chaos run's own, so that restarting it (a fault) disturbs nothing
// else on the machine: a fresh cluster under `dir`, on loopback at `port`, trust auth (it
// listens on 127.0.0.1 only and lives for one run). Run as the postgres user when we are root,
// as ./dev does: PostgreSQL refuses to run as root.

export class PgServer {
  readonly data: string;
  private readonly sock: string;
  private readonly bin: string;
  private readonly asRoot = process.getuid?.() === 0;

  constructor(
    readonly dir: string,
    readonly port: number,
    /** The address it listens on (deploy/rehearsal.ts: a bridge's, as compose's `postgres`). */
    readonly listen = "127.0.0.1",
  ) {
    this.data = join(dir, "pg");
    this.sock = join(dir, "pg-socket");
    this.bin = pgBin();
  }

  url(database: string): string {
    return `postgres://feed@127.0.0.1:${this.port}/${database}`;
  }

  /** A new, empty cluster (any earlier one under `dir` is removed first). */
  init(): void {
    rmSync(this.data, { recursive: true, force: true });
    for (const d of [this.dir, this.data, this.sock]) mkdirSync(d, { recursive: true });
    if (this.asRoot) {
      // The postgres user must reach its folders: every folder above must be searchable.
      chownSync(this.data, pgUid(), pgGid());
      chownSync(this.sock, pgUid(), pgGid());
    }
    this.run(["initdb", "-D", this.data, "-U", "feed", "--auth=trust", "-E", "UTF8"], "initdb");
    // Clients on the listening address's own subnet too (a rehearsal's namespaces).
    if (this.listen !== "127.0.0.1")
      appendFileSync(join(this.data, "pg_hba.conf"), "host all all samenet trust\n");
  }

  start(): void {
    const log = join(this.dir, "postgres.log");
    if (!existsSync(log)) writeFileSync(log, "");
    if (this.asRoot) chownSync(log, pgUid(), pgGid());
    const opts = `-p ${this.port} -k ${this.sock} -c listen_addresses=${this.listen} -c max_connections=100 -c fsync=on`;
    this.run(["pg_ctl", "-D", this.data, "-l", log, "-w", "-t", "30", "-o", opts, "start"], "pg_ctl start");
  }

  /** `immediate` is a crash (no checkpoint; recovery from WAL at the next start). */
  stop(mode: "fast" | "immediate" = "fast"): void {
    this.run(["pg_ctl", "-D", this.data, "-m", mode, "-w", "-t", "30", "stop"], "pg_ctl stop");
  }

  running(): boolean {
    const r = this.spawn(["pg_ctl", "-D", this.data, "status"]);
    return r.exitCode === 0;
  }

  createDatabase(name: string): void {
    this.run(
      [
        "psql",
        "-h",
        this.sock,
        "-p",
        String(this.port),
        "-U",
        "feed",
        "-d",
        "postgres",
        "-qAt",
        "-c",
        `CREATE DATABASE ${name}`,
      ],
      "createdb",
    );
  }

  private spawn(cmd: string[]) {
    const [tool, ...args] = cmd;
    const full = [join(this.bin, tool!), ...args];
    return Bun.spawnSync(this.asRoot ? ["runuser", "-u", "postgres", "--", ...full] : full, {
      stdout: "pipe",
      stderr: "pipe",
    });
  }

  private run(cmd: string[], what: string): void {
    const r = this.spawn(cmd);
    if (r.exitCode !== 0)
      throw new Error(`${what} failed (exit ${r.exitCode}): ${r.stderr}${r.stdout}`.slice(0, 2000));
  }
}

function pgBin(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(root, v, "bin", "pg_ctl"))) return join(root, v, "bin");
  throw new Error("no PostgreSQL server binaries under /usr/lib/postgresql (./dev up installs them)");
}

function idOf(flag: "-u" | "-g"): number {
  const r = Bun.spawnSync(["id", flag, "postgres"], { stdout: "pipe" });
  if (r.exitCode !== 0) throw new Error("there is no postgres user (install the postgresql package)");
  return Number(r.stdout.toString().trim());
}
const pgUid = () => idOf("-u");
const pgGid = () => idOf("-g");
