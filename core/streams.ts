import type { Redis } from "./redis.ts";
import { keys } from "./redis-keys.ts";

export const GROUPS = { projector: "projector", media: "media" } as const;

export function streamNames(partitions: number): string[] {
  return Array.from({ length: partitions }, (_, p) => keys.stream(p));
}

export interface PublishItem {
  stream: string;
  event: { id: string; type: string; [field: string]: unknown };
}

/**
 * XADDs events in one pipeline. Streams are never capped here: they are trimmed only below what
 * every consumer group has acknowledged (the projector's trimmer).
 */
export async function publishEvents(redis: Redis, items: readonly PublishItem[]): Promise<void> {
  if (items.length === 0) return;
  const pipe = redis.pipeline();
  for (const it of items)
    pipe.xadd(it.stream, "*", "id", it.event.id, "type", it.event.type, "event", JSON.stringify(it.event));
  const results = (await pipe.exec()) ?? [];
  const failed = results.find(([err]) => err);
  if (failed) throw failed[0];
}

/** Field list of a stream entry → object. */
export function fieldsOf(fields: string[]): Record<string, string> {
  const o: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) o[fields[i]!] = fields[i + 1]!;
  return o;
}
