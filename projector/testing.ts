import { duplicateRedis } from "../core/redis.ts";
import type { Storage } from "../core/storage.ts";
import { GROUPS, streamNames } from "../core/streams.ts";
import { fanoutJobCount } from "../db/projections.ts";
import { gate, type TestDb, waitFor } from "../db/testing.ts";
import type { HandlerMap } from "./handlers/types.ts";
import { createProjectorMetrics } from "./metrics.ts";
import { createProjector } from "./projector.ts";

// Runs real projector instances against the test database and Redis.

export { gate, waitFor };

/** Sum of entries not yet delivered (lag) and delivered but unacknowledged (pending). */
export async function backlog(
  db: TestDb,
  streams: string[],
  group: string = GROUPS.projector,
): Promise<number> {
  let n = 0;
  for (const s of streams) {
    const groups = (await db.redis.xinfo("GROUPS", s).catch(() => [])) as unknown[][];
    for (const g of groups) {
      const f: Record<string, unknown> = {};
      for (let i = 0; i + 1 < g.length; i += 2) f[String(g[i])] = g[i + 1];
      if (f.name === group) n += Number(f.pending ?? 0) + Number(f.lag ?? 0);
    }
  }
  return n;
}

export async function startTestProjector(
  db: TestDb,
  opts: { handlers?: HandlerMap; consumerName?: string; storage?: Storage | null; fanoutLane?: boolean } = {},
) {
  const metrics = createProjectorMetrics({
    redis: db.redis,
    streams: streamNames(db.config.STREAM_PARTITIONS),
  });
  // Each instance reads on a blocking connection of its own, as separate processes would.
  const blocking = duplicateRedis(db.blocking);
  const logs: Record<string, unknown>[] = [];
  const projector = createProjector({
    sql: db.sql,
    redis: db.redis,
    blocking,
    config: db.config,
    metrics,
    handlers: opts.handlers,
    storage: opts.storage ?? null,
    consumerName: opts.consumerName,
    fanoutLane: opts.fanoutLane,
    log: (l) => logs.push(l),
  });
  await projector.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await projector.stop();
    blocking.disconnect();
  };
  db.onClose(stop);
  return {
    projector,
    metrics,
    logs,
    /** Waits until every stream entry has been handled and acknowledged. */
    settle: async (timeoutMs = 15_000) => {
      try {
        // Both groups: the projector's, and the media group's when it runs.
        // …and the fan-out lane's jobs, when the lane runs.
        const all = async () =>
          (await backlog(db, projector.streams)) +
          (projector.media ? await backlog(db, projector.streams, GROUPS.media) : 0) +
          (opts.fanoutLane === false ? 0 : await fanoutJobCount(db.sql));
        await waitFor(async () => (await all()) === 0, timeoutMs, "the projector to drain");
      } catch (e) {
        // Say what the consumer was doing, or a timeout explains nothing.
        const left = await backlog(db, projector.streams);
        throw new Error(
          `${(e as Error).message}; backlog ${left}; recent projector log: ${JSON.stringify(logs.slice(-5))}`,
        );
      }
    },
    stop,
  };
}
