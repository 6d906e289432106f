import { Elysia, t } from "elysia";
import type { Deps } from "../deps.ts";
import { problems } from "../schemas.ts";
import { ready } from "./ready.ts";

// GET /health (liveness: the process answers), GET /ready.

export const healthRoutes = (deps: Deps) =>
  new Elysia()
    .get("/health", () => ({ status: "ok" as const }), {
      response: { 200: t.Object({ status: t.Literal("ok") }) },
      detail: { summary: "Liveness", tags: ["ops"] },
    })
    .get("/ready", ready(deps), {
      response: {
        200: t.Object({ status: t.Literal("ready"), postgres: t.Boolean(), redis: t.Boolean() }),
        ...problems(503),
      },
      detail: { summary: "Readiness: PostgreSQL and Redis reachable", tags: ["ops"] },
    });
