import { Elysia } from "elysia";
import type { KnownAddress } from "../../core/dependency-errors.ts";
import { dependencyUnavailable } from "../../core/errors.ts";
import { pgBreaker } from "../../core/pg-breaker.ts";

/** Routes that answer without PostgreSQL, or that report on it themselves. */
const OPS_PATHS = new Set(["/health", "/ready", "/docs", "/openapi.json"]);

/**
 * The PostgreSQL breaker (core/pg-breaker.ts) around the app: an error that says PostgreSQL is
 * unreachable opens it, and while it is open requests get 503 before routing. Registered before
 * the problem plugin, whose error hook answers (this one only looks).
 */
export const pgBreakerPlugin = (known: readonly KnownAddress[] = []) => {
  const breaker = pgBreaker(known);
  return new Elysia({ name: "pg-breaker" })
    .onRequest(({ request }) => {
      if (breaker.isOpen() && !OPS_PATHS.has(new URL(request.url).pathname))
        throw dependencyUnavailable("PostgreSQL");
    })
    .onError({ as: "global" }, ({ error }) => {
      breaker.record(error);
    });
};
