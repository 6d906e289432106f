import type { Batcher } from "../../core/batcher.ts";
import type { Config } from "../../core/config.ts";
import type { EventOf, EventType, FeedEvent } from "../../core/events.ts";
import type { RedisClient } from "../../core/redis.ts";
import type { Storage } from "../../core/storage.ts";
import type { Sql } from "../../db/client.ts";
import type { ProjectorMetrics } from "../metrics.ts";

export interface HandlerDeps {
  sql: Sql;
  redis: RedisClient;
  config: Config;
  metrics: ProjectorMetrics;
  group: string;
  /** Object storage; null when S3 is not configured. */
  storage?: Storage | null;
  /** Tells this process's fan-out lane a job is waiting (others poll). */
  wakeFanoutLane?: () => void;
  /** Feeds owed a trim, trimmed together off the insert path; without it, trimmed at once. */
  trims?: Batcher<string>;
}

/**
 * One handler per event type. It must be idempotent and order-independent: it may run twice for
 * one event, and after events that happened later. PostgreSQL effects that are not naturally
 * idempotent (counters) go through markProcessed in the same transaction; Redis effects are
 * written so that repeating them is harmless (ZADD, SET of the truth, DEL).
 */
export type Handler<T extends EventType> = (deps: HandlerDeps, event: EventOf<T>) => Promise<void>;
export type HandlerMap = { [T in EventType]?: Handler<T> };

/** The handler of an event type, typed for that type's events (undefined: the type is not handled). */
export function handlerOf<T extends EventType>(handlers: HandlerMap, type: T): Handler<T> | undefined {
  return handlers[type];
}

/**
 * Handles many events at once: what one read returned of the types it is registered for. Same
 * rules as a Handler. A batch that fails is handled again event by event by the single
 * handlers, so a poison entry goes alone to its retries and the DLQ while the others proceed.
 */
export type BatchHandler = (deps: HandlerDeps, events: readonly FeedEvent[]) => Promise<void>;
export type BatchHandlerMap = { [T in EventType]?: BatchHandler };
