import { isCluster, type RedisClient } from "../core/redis.ts";
import { keys } from "../core/redis-keys.ts";
import { fieldsOf } from "../core/streams.ts";

// The dead-letter stream: entries that failed MAX_DELIVERIES times, with their error. Replay
// puts the event back on its original stream (every group sees it again; handlers are
// idempotent) and removes it from the DLQ.

export interface DeadLetter {
  dlq_id: string;
  stream: string;
  group: string;
  entry_id: string;
  event_id: string;
  type: string;
  error: string;
  deliveries: number;
  failed_at: string;
  event: string;
}

export async function listDeadLetters(redis: RedisClient, count = 100): Promise<DeadLetter[]> {
  const entries = (await redis.xrange(keys.dlq, "-", "+", "COUNT", count)) as [string, string[]][];
  return entries.map(([id, fields]) => {
    const f = fieldsOf(fields);
    return {
      dlq_id: id,
      stream: f.stream ?? "",
      group: f.group ?? "",
      entry_id: f.entry_id ?? "",
      event_id: f.event_id ?? "",
      type: f.type ?? "",
      error: f.error ?? "",
      deliveries: Number(f.deliveries ?? 0),
      failed_at: f.failed_at ?? "",
      event: f.event ?? "",
    };
  });
}

/**
 * The stream a letter goes back to. Letters written before the partitions were hash-tagged name
 * `feed:events:N`, which nothing reads any more: they go to `feed:events:{N}`.
 */
export function replayStream(stream: string): string {
  const legacy = /^feed:events:(\d+)$/.exec(stream);
  return legacy ? keys.stream(Number(legacy[1])) : stream;
}

/** Replays one dead letter (by its DLQ id) or, with "all", every one. Returns how many. */
export async function replayDeadLetters(redis: RedisClient, which: string | "all"): Promise<number> {
  const all = await listDeadLetters(redis, 10_000);
  const chosen = which === "all" ? all : all.filter((d) => d.dlq_id === which || d.event_id === which);
  for (const d of chosen) {
    const entry = ["id", d.event_id, "type", d.type, "event", d.event];
    if (isCluster(redis)) {
      // The DLQ and the stream are in different slots: no MULTI. Re-added first, removed after,
      // so a crash in between replays it twice (handlers are idempotent), never loses it.
      await redis.xadd(replayStream(d.stream), "*", ...entry);
      await redis.xdel(keys.dlq, d.dlq_id);
    } else {
      await redis
        .multi()
        .xadd(replayStream(d.stream), "*", ...entry)
        .xdel(keys.dlq, d.dlq_id)
        .exec();
    }
  }
  return chosen.length;
}
