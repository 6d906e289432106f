import { dependencyOf } from "./dependency-errors.ts";
import type { RedisClient } from "./redis.ts";

// A circuit breaker for the api's optional Redis work: cache reads and fills, the XADD after
// commit, the fail-open rate limits. A Redis that hangs (SIGSTOP, a stalled host) keeps its
// connection open, so each command waits out REDIS_COMMAND_TIMEOUT_MS; once one has, the
// breaker opens and the next OPEN_MS of requests skip Redis at once (PostgreSQL answers, the
// outbox sweeper publishes). Then one request probes; the others keep skipping until it is back.
// Redis errors that are not outages (a bug, a wrong type) are thrown as they are. PostgreSQL's
// breaker, which refuses whole requests instead, is core/pg-breaker.ts.

const OPEN_MS = 2_000;

interface State {
  openUntil: number;
  probing: boolean;
}

const states = new WeakMap<RedisClient, State>();

function stateOf(redis: RedisClient): State {
  let s = states.get(redis);
  if (!s) {
    s = { openUntil: 0, probing: false };
    states.set(redis, s);
  }
  return s;
}

/** Whether optional Redis work should be skipped now (the breaker is open or probing). */
export function redisLooksDown(redis: RedisClient): boolean {
  const s = stateOf(redis);
  return s.openUntil > 0 && (Date.now() < s.openUntil || s.probing);
}

/** Runs `work` against Redis, or answers `fallback` while Redis is down or when it fails as down. */
export async function withRedis<T>(
  redis: RedisClient,
  work: () => Promise<T>,
  fallback: () => T,
  openMs = OPEN_MS,
): Promise<T> {
  const s = stateOf(redis);
  if (redisLooksDown(redis)) return fallback();
  const probe = s.openUntil > 0;
  if (probe) s.probing = true;
  try {
    const out = await work();
    s.openUntil = 0;
    return out;
  } catch (e) {
    if (dependencyOf(e) !== "Redis") throw e;
    s.openUntil = Date.now() + openMs;
    return fallback();
  } finally {
    if (probe) s.probing = false;
  }
}
