import type { Config } from "../core/config.ts";
import type { RedisClient } from "../core/redis.ts";
import type { Storage } from "../core/storage.ts";
import type { Sql } from "../db/client.ts";
import type { PublishedMarks } from "./commands/run-command.ts";
import type { ReaderTouches } from "./feed/reader-touches.ts";
import type { MemoryCache } from "./hydrate/memory.ts";
import type { ApiMetrics } from "./metrics.ts";

/** Test hooks: fault injection points that production never sets. */
export interface ApiHooks {
  /** Runs after a command's transaction commits and before its events are XADDed. */
  afterCommit?: () => void | Promise<void>;
  /** Runs after a page's PostgreSQL statement read a liked-set build's likes, before it finishes. */
  beforeLikedSetFinish?: () => void | Promise<void>;
}

/** What the process tells the app about its own state (api/server.ts). */
export interface Lifecycle {
  /** SIGTERM came: in-flight requests finish, /ready answers 503, connections close. */
  draining: boolean;
}

export interface Deps {
  sql: Sql;
  /**
   * A pool with generic plans (db/client.ts genericPlans) for the hot statements: the feed's
   * sources, hydration, and the commands' single statements (runStatement). Planned once per
   * connection instead of on every request: a like's statement took 170 µs to plan, 67 to run.
   */
  plannedSql?: Sql;
  redis: RedisClient;
  config: Config;
  metrics: ApiMetrics;
  /** Object storage for media; null when S3 is not configured (uploads then answer 503). */
  storage?: Storage | null;
  hooks?: ApiHooks;
  /** Set by main.ts; tests leave it out (never draining). */
  lifecycle?: Lifecycle;
  /**
   * Post bodies, users, presigned URLs and rendered posts kept in this process, dropped on the
   * invalidation channel (main.ts and testApp subscribe it). Without it every read goes to Redis.
   */
  memory?: MemoryCache;
  /**
   * Readers' first reads of the day, written to feed_readers in batches (api/feed/reader-touches.ts).
   * Without it each is written on the read's path.
   */
  touches?: ReaderTouches;
  /** Published outbox rows, marked in batches (api/commands/run-command.ts); without it, one by one. */
  publishedMarks?: PublishedMarks;
  /** Structured log lines (JSON); tests leave it out. */
  log?: (line: Record<string, unknown>) => void;
}
