import { Elysia, t } from "elysia";
import { AppError } from "../../core/errors.ts";
import { pingRedis } from "../../core/redis.ts";
import { pingSql } from "../../db/client.ts";
import type { Deps } from "../deps.ts";
import { problems } from "../schemas.ts";

export const healthRoutes = (deps: Deps) =>
  new Elysia()
    .get("/health", () => ({ status: "ok" as const }), {
      response: { 200: t.Object({ status: t.Literal("ok") }) },
      detail: { summary: "Liveness", tags: ["ops"] },
    })
    .get(
      "/ready",
      async () => {
        // A balancer that still asks while we drain must take this replica out of rotation.
        if (deps.lifecycle?.draining) throw new AppError("not_ready", "shutting down: draining requests");
        const [postgres, redis] = await Promise.all([pingSql(deps.sql), pingRedis(deps.redis)]);
        if (!postgres || !redis) {
          const down = [!postgres && "PostgreSQL", !redis && "Redis"].filter(Boolean).join(" and ");
          throw new AppError("not_ready", `${down} not reachable`);
        }
        return { status: "ready" as const, postgres, redis };
      },
      {
        response: {
          200: t.Object({ status: t.Literal("ready"), postgres: t.Boolean(), redis: t.Boolean() }),
          ...problems(503),
        },
        detail: { summary: "Readiness: PostgreSQL and Redis reachable", tags: ["ops"] },
      },
    );
