import { readdir, readFile } from "node:fs/promises";
import type { AnySql } from "../../db/client.ts";
import { parsePidStat } from "../bench-report.ts";

// CPU seconds of processes from /proc, for the benchmarks (bench/, read-bench.ts, read-profile.ts).

/** Clock ticks per second, the unit of /proc's CPU times. */
export const CLK_TCK = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;

/** A process's parent and its utime + stime in ticks. */
async function statOf(pid: string): Promise<{ ppid: string; ticks: number }> {
  const text = await readFile(`/proc/${pid}/stat`, "utf8");
  // Field 4, counted from the last ')' as parsePidStat counts (the name may hold spaces).
  const ppid = text.slice(text.lastIndexOf(")") + 2).split(/\s+/)[1]!;
  return { ppid, ticks: parsePidStat(text).ticks };
}

/** CPU seconds of a process and its children (a postmaster's backends are its children). */
export async function treeSeconds(root: string): Promise<number> {
  let ticks = 0;
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = await statOf(name);
      if (name === root || s.ppid === root) ticks += s.ticks;
    } catch {
      // exited meanwhile
    }
  }
  return ticks / CLK_TCK;
}

/**
 * The postmaster behind a connection (the parent of its backend): this stack's PostgreSQL, not
 * the other servers on the machine.
 */
export async function postmasterPid(sql: AnySql): Promise<string> {
  const [row] = await sql<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
  return (await statOf(String(row!.pid))).ppid;
}

/** Ticks of every PostgreSQL process now (backends come and go; see ticksBetween). */
export async function postgresTicks(): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = parsePidStat(await readFile(`/proc/${name}/stat`, "utf8"));
      if (s.comm === "postgres") out.set(Number(name), s.ticks);
    } catch {
      // The process exited between readdir and read.
    }
  }
  return out;
}
