import type { RedisClient } from "../core/redis.ts";
import type { Sql } from "../db/client.ts";
import { saveStreamOffset } from "../db/projections.ts";
import { compareStreamIds } from "./consumer.ts";

// Streams are trimmed only below what every consumer group has acknowledged: for each group the
// safe point is its oldest pending entry, or its last delivered entry when nothing is pending.
// Every group's safe point is also recorded in PostgreSQL, so a lost group is recreated from
// there rather than from '$'.

export async function safeTrimPoint(redis: RedisClient, stream: string): Promise<Map<string, string> | null> {
  let groups: unknown[][];
  try {
    groups = (await redis.xinfo("GROUPS", stream)) as unknown[][];
  } catch {
    return null; // no such stream yet
  }
  const out = new Map<string, string>();
  for (const g of groups) {
    const f: Record<string, unknown> = {};
    for (let i = 0; i + 1 < g.length; i += 2) f[String(g[i])] = g[i + 1];
    const name = String(f.name);
    let point = String(f["last-delivered-id"]);
    if (Number(f.pending) > 0) {
      const summary = (await redis.xpending(stream, name)) as [number, string | null, string | null, unknown];
      if (summary[1]) point = summary[1];
    }
    out.set(name, point);
  }
  return out;
}

export async function trimStreams(d: { sql: Sql; redis: RedisClient }, streams: string[]): Promise<number> {
  let trimmed = 0;
  for (const stream of streams) {
    const points = await safeTrimPoint(d.redis, stream);
    if (!points || points.size === 0) continue;
    for (const [group, point] of points)
      if (point !== "0-0") await saveStreamOffset(d.sql, group, stream, point);
    const min = [...points.values()].sort(compareStreamIds)[0]!;
    if (min === "0-0") continue;
    // Exact trimming: the approximate form ('~') keeps whole 100-entry nodes, so a quiet stream
    // would never shrink. Either way nothing at or above `min` is removed.
    trimmed += Number(await d.redis.xtrim(stream, "MINID", min));
  }
  return trimmed;
}

/**
 * Consumers are named per process, so every restart leaves one behind. Those idle past
 * `idleMs` with nothing pending are removed; one with pending entries stays until XAUTOCLAIM has
 * taken them over.
 */
export async function pruneConsumers(
  redis: RedisClient,
  streams: string[],
  group: string,
  idleMs: number,
): Promise<number> {
  let removed = 0;
  for (const stream of streams) {
    let consumers: unknown[][];
    try {
      consumers = (await redis.xinfo("CONSUMERS", stream, group)) as unknown[][];
    } catch {
      continue; // no stream or no group yet
    }
    for (const c of consumers) {
      const f: Record<string, unknown> = {};
      for (let i = 0; i + 1 < c.length; i += 2) f[String(c[i])] = c[i + 1];
      if (Number(f.pending) === 0 && Number(f.idle) > idleMs) {
        await redis.xgroup("DELCONSUMER", stream, group, String(f.name));
        removed++;
      }
    }
  }
  return removed;
}
