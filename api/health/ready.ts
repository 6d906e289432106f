import { AppError } from "../../core/errors.ts";
import { pingRedis } from "../../core/redis.ts";
import { pingSql } from "../../db/client.ts";
import type { Deps } from "../deps.ts";

interface Readiness {
  postgres: boolean;
  redis: boolean;
}

/**
 * The dependency check behind /ready, shared for READY_CACHE_MS: callers within the window get
 * the last answer, and callers while a check runs wait for that one rather than start their own.
 */
function readinessCheck(deps: Deps): () => Promise<Readiness> {
  let last: (Readiness & { at: number }) | null = null;
  let running: Promise<Readiness> | null = null;
  return () => {
    if (last && performance.now() - last.at < deps.config.READY_CACHE_MS) return Promise.resolve(last);
    running ??= Promise.all([pingSql(deps.sql), pingRedis(deps.redis)])
      .then(([postgres, redis]) => {
        last = { postgres, redis, at: performance.now() };
        return last;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
}

/**
 * GET /ready: 200 while PostgreSQL and Redis answer (the check shared for READY_CACHE_MS), 503
 * when either does not, and at once while the process drains.
 */
export function ready(deps: Deps) {
  const readiness = readinessCheck(deps);
  return async () => {
    // A balancer that still asks while we drain must take this replica out of rotation: at
    // once, whatever the last check said.
    if (deps.lifecycle?.draining) throw new AppError("not_ready", "shutting down: draining requests");
    const { postgres, redis } = await readiness();
    if (!postgres || !redis) {
      const down = [!postgres && "PostgreSQL", !redis && "Redis"].filter(Boolean).join(" and ");
      throw new AppError("not_ready", `${down} not reachable`);
    }
    return { status: "ready" as const, postgres, redis };
  };
}
