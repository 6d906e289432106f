import { entryFields, entryOf, type FeedEvent } from "./events.ts";
import { type RedisClient, runCommands, throwFirstError } from "./redis.ts";
import { keys } from "./redis-keys.ts";

export const GROUPS = { projector: "projector", media: "media" } as const;

export function streamNames(partitions: number): string[] {
  return Array.from({ length: partitions }, (_, p) => keys.stream(p));
}

export interface PublishItem {
  stream: string;
  event: FeedEvent;
}

/**
 * XADDs events in one pipeline (on a cluster, where partitions live on several nodes, one XADD
 * each, all at once). Streams are never capped here: they are trimmed only below what every
 * consumer group has acknowledged (the projector's trimmer). A failure throws after the others
 * went out: the caller publishes the lot again, and handlers are idempotent.
 */
export async function publishEvents(redis: RedisClient, items: readonly PublishItem[]): Promise<void> {
  throwFirstError(
    await runCommands(
      redis,
      items.map((it) => ["xadd", it.stream, "*", ...entryFields(entryOf(it.event))]),
    ),
  );
}
