import type { RedisClient } from "../../core/redis.ts";
import { streamNames } from "../../core/streams.ts";
import type { Sql } from "../../db/client.ts";
import { fanoutJobCount } from "../../db/projections.ts";

// Waiting for the projectors to catch up, so a measurement or a check never races them.

export interface Backlog {
  undelivered: number;
  pending: number;
  fanoutJobs: number;
  groups: string[];
}

/** Every entry of every partition acknowledged by every group, and no fan-out job left. */
export async function backlogOf(redis: RedisClient, sql: Sql, partitions: number): Promise<Backlog> {
  let undelivered = 0;
  let pending = 0;
  const groups = new Set<string>();
  for (const stream of streamNames(partitions)) {
    const info = (await redis.xinfo("STREAM", stream).catch(() => null)) as unknown[] | null;
    if (!info) continue;
    const last = String(info[info.indexOf("last-generated-id") + 1]);
    const length = Number(info[info.indexOf("length") + 1]);
    for (const g of (await redis.xinfo("GROUPS", stream)) as unknown[][]) {
      const f: Record<string, unknown> = {};
      for (let i = 0; i + 1 < g.length; i += 2) f[String(g[i])] = g[i + 1];
      groups.add(String(f.name));
      pending += Number(f.pending);
      // lag is exact here (nothing was deleted out of order); fall back to "behind the last id".
      const lag = f.lag === null || f.lag === undefined ? undefined : Number(f.lag);
      if (lag !== undefined) undelivered += lag;
      else if (length > 0 && String(f["last-delivered-id"]) !== last) undelivered += 1;
    }
  }
  return { undelivered, pending, fanoutJobs: await fanoutJobCount(sql), groups: [...groups] };
}

export interface DrainOptions {
  timeoutMs: number;
  /** Between readings while something is left. */
  intervalMs: number;
  /**
   * All-zero readings needed in a row, `confirmMs` apart: a gauge the projector caches for a
   * second needs two, 1.1 s apart. 1 by default.
   */
  confirmations?: number;
  confirmMs?: number;
  /** A reading that throws (a stopped Redis) is retried until the timeout instead of ending the wait. */
  retryErrors?: boolean;
}

/**
 * Reads the backlog (`read`: figures that must all be 0) until it is drained or `timeoutMs` has
 * passed. `last` is the last reading (or error), for the caller's message.
 */
export async function waitDrained(
  read: () => Promise<object>,
  o: DrainOptions,
): Promise<{ drained: boolean; ms: number; last: string }> {
  const t0 = performance.now();
  const confirmations = o.confirmations ?? 1;
  let zeros = 0;
  let last = "";
  while (performance.now() - t0 < o.timeoutMs) {
    try {
      const figures = await read();
      last = JSON.stringify(figures);
      const left = Object.values(figures as Record<string, unknown>).some(
        (v) => typeof v === "number" && v !== 0,
      );
      zeros = left ? 0 : zeros + 1;
      if (zeros >= confirmations) return { drained: true, ms: Math.round(performance.now() - t0), last };
    } catch (e) {
      if (!o.retryErrors) throw e;
      last = String(e);
    }
    await Bun.sleep(zeros ? (o.confirmMs ?? o.intervalMs) : o.intervalMs);
  }
  return { drained: false, ms: Math.round(performance.now() - t0), last };
}

/** waitDrained, failing with `what` and the last reading when the backlog outlasts the timeout; the ms it took. */
export async function mustDrain(read: () => Promise<object>, o: DrainOptions, what: string): Promise<number> {
  const r = await waitDrained(read, o);
  if (!r.drained) throw new Error(`${what} (${o.timeoutMs} ms): ${r.last}`);
  return r.ms;
}
