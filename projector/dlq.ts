import { entryFields, fieldsOf, type StreamEntry } from "../core/events.ts";
import { isCluster, type RedisClient, type RedisCommand } from "../core/redis.ts";
import { keys } from "../core/redis-keys.ts";

// The dead-letter stream: entries that failed MAX_DELIVERIES times (or could not be parsed),
// with their error. The consumer writes the letters, `./dev dlq` (dlq-cli.ts) lists and replays
// them; this module is the one that knows their fields. Replay puts the event back on its
// original stream (every group sees it again; handlers are idempotent) and removes it from the
// DLQ.

/** A letter, as listed. The event is kept as its entry carried it: it may not even parse. */
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

/** An entry a consumer group gives up on: where it was, what it carried, why and after how many tries. */
export interface Failure {
  stream: string;
  group: string;
  entryId: string;
  entry: Partial<StreamEntry>;
  error: unknown;
  deliveries: number;
}

/** A letter's fields, in the order they are written (XADD feed:dlq). */
export function letterFields(f: Failure, failedAt = new Date()): string[] {
  return [
    "stream",
    f.stream,
    "group",
    f.group,
    "entry_id",
    f.entryId,
    "event_id",
    f.entry.id ?? "",
    "type",
    f.entry.type ?? "",
    "event",
    f.entry.event ?? "",
    "error",
    messageOf(f.error).slice(0, 2000),
    "deliveries",
    String(f.deliveries),
    "failed_at",
    failedAt.toISOString(),
  ];
}

/** A letter as read back (XRANGE feed:dlq): its DLQ entry's id and fields. */
export function letterOf(dlqId: string, fields: string[]): DeadLetter {
  const f = fieldsOf(fields);
  return {
    dlq_id: dlqId,
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
}

/** An error's message (or, without one, the thrown value), for the letter. */
function messageOf(err: unknown): string {
  const message = typeof err === "object" && err !== null && "message" in err ? err.message : undefined;
  return String(message ?? err);
}

/** Writes the letter of a failed entry and acknowledges the entry. */
export async function deadLetter(redis: RedisClient, f: Failure): Promise<void> {
  await addThen(redis, keys.dlq, letterFields(f), ["xack", f.stream, f.group, f.entryId]);
}

export async function listDeadLetters(redis: RedisClient, count = 100): Promise<DeadLetter[]> {
  const entries = await redis.xrange(keys.dlq, "-", "+", "COUNT", count);
  return entries.map(([id, fields]) => letterOf(id, fields));
}

/** Replays one dead letter (by its DLQ id) or, with "all", every one. Returns how many. */
export async function replayDeadLetters(redis: RedisClient, which: string | "all"): Promise<number> {
  const all = await listDeadLetters(redis, 10_000);
  const chosen = which === "all" ? all : all.filter((d) => d.dlq_id === which || d.event_id === which);
  for (const d of chosen) {
    const entry = entryFields({ id: d.event_id, type: d.type, event: d.event });
    await addThen(redis, d.stream, entry, ["xdel", keys.dlq, d.dlq_id]);
  }
  return chosen.length;
}

/**
 * XADDs an entry to `to`, then settles the entry it came from (`then`: its XACK or XDEL). One
 * Redis: in one MULTI. On a cluster the two keys are in different slots, so no MULTI: the entry
 * is added first and settled after, so that a crash in between repeats it (a second letter, a
 * second replay; replay and handlers are idempotent), never loses it.
 */
async function addThen(redis: RedisClient, to: string, fields: string[], then: RedisCommand): Promise<void> {
  if (!isCluster(redis)) {
    await redis.multi([["xadd", to, "*", ...fields], then]).exec();
    return;
  }
  await redis.xadd(to, "*", ...fields);
  await redis.call(...then);
}
