import { isPostgresUnreachable, type KnownAddress } from "./dependency-errors.ts";

// A circuit breaker for PostgreSQL, beside the Redis one (core/redis-breaker.ts). A request
// arriving while PostgreSQL is down would otherwise queue in postgres.js until a connection
// succeeds; answering 503 at once for OPEN_MS after an outage error lets clients and balancers
// back off. The first request after the window tries for real. Only a real failure opens it: not
// the breaker's own refusal, nor one statement that ran past its timeout.

const OPEN_MS = 1_000;

export interface PgBreaker {
  /** Whether requests should be refused now (answered with errors.ts dependencyUnavailable). */
  isOpen(): boolean;
  /** Opens the breaker when `error` says PostgreSQL is unreachable. */
  record(error: unknown): void;
}

/** `known`: services' addresses, to name the one behind a bare socket error. */
export function pgBreaker(known: readonly KnownAddress[] = [], openMs = OPEN_MS): PgBreaker {
  let downUntil = 0;
  return {
    isOpen() {
      return downUntil > performance.now();
    },
    record(error) {
      if (isPostgresUnreachable(error, known)) downUntil = performance.now() + openMs;
    },
  };
}
