import { openapi } from "@elysiajs/openapi";
import { Elysia } from "elysia";
import { knownAddresses } from "../core/dependency-errors.ts";
import { authRoutes } from "./auth/routes.ts";
import type { Deps } from "./deps.ts";
import { feedRoutes } from "./feed/routes.ts";
import { followRoutes } from "./follows/routes.ts";
import { healthRoutes } from "./health/routes.ts";
import { likeRoutes } from "./likes/routes.ts";
import { loadTestRoutes } from "./loadtest/routes.ts";
import { validOpenApi } from "./openapi.ts";
import { limitsPlugin } from "./plugins/limits.ts";
import { pgBreakerPlugin } from "./plugins/pg-breaker.ts";
import { problemPlugin } from "./plugins/problem.ts";
import { requestContext } from "./plugins/request-context.ts";
import { DOCS_PATH, OPENAPI_PATH, securityPlugin } from "./plugins/security.ts";
import { postImageRoutes, postRoutes } from "./posts/routes.ts";
import { uploadRoutes } from "./uploads/routes.ts";
import { avatarRoutes, userRoutes } from "./users/routes.ts";
import { webRoutes } from "./web/routes.ts";

export type { Deps } from "./deps.ts";

/**
 * The whole HTTP API as a fetch handler, without listen(): main.ts serves it, tests call
 * app.handle(new Request(…)). Everything it touches comes in through deps, the logger too
 * (deps.log). Around the routes, in order: security headers and CORS, the request context (id,
 * timing), the PostgreSQL breaker, error rendering (problem+json), the request limits. Each
 * resource's routes.ts is its table of routes; each route calls one operation file beside it.
 */
export function createApp(deps: Deps) {
  const log = deps.log;
  const known = knownAddresses(deps.config);
  // The load-test signer exists only with its secret set; otherwise its path is a plain 404.
  const secret = deps.config.LOAD_TEST_SECRET;
  const loadTest = secret ? loadTestRoutes(deps, secret) : new Elysia();
  return (
    new Elysia({ normalize: false })
      .use(securityPlugin(deps.config))
      .use(
        requestContext({
          onRequestDone: (r) => {
            deps.metrics.httpDuration.observe(
              { method: r.method, route: r.route, status: String(r.status) },
              r.seconds,
            );
            // A line per request cost a tenth of a cached read: errors and slow requests always,
            // the rest sampled (the metric above counts every one).
            if (
              r.status >= 500 ||
              r.seconds * 1000 >= deps.config.LOG_SLOW_MS ||
              deps.config.LOG_LEVEL === "debug" ||
              Math.random() < deps.config.LOG_SAMPLE_RATE
            )
              log?.({ level: r.status >= 500 ? "error" : "info", msg: "request", ...r });
          },
        }),
      )
      .use(pgBreakerPlugin(known))
      .use(problemPlugin({ log, known }))
      .use(limitsPlugin(deps.config))
      .use(docsPlugin(deps))
      .use(healthRoutes(deps))
      .use(authRoutes(deps))
      .use(feedRoutes(deps))
      .use(postRoutes(deps))
      .use(likeRoutes(deps))
      .use(followRoutes(deps))
      .use(userRoutes(deps))
      // In this order for the OpenAPI document's (and so the typed client's) order of paths.
      .use(postImageRoutes(deps))
      .use(avatarRoutes(deps))
      .use(uploadRoutes(deps))
      .use(webRoutes(deps))
      .use(loadTest)
  );
}

export type App = ReturnType<typeof createApp>;

/**
 * /docs and /openapi.json. The generated document is made valid OpenAPI 3.1 (api/openapi.ts)
 * once: the hook is local to this instance, so no other route pays for it.
 */
function docsPlugin(deps: Deps) {
  let document: object | undefined;
  return new Elysia({ name: "docs" })
    .mapResponse(({ path, response }) => {
      if (path !== OPENAPI_PATH) return;
      document ??= validOpenApi(response, deps.config.PUBLIC_URL);
      return Response.json(document);
    })
    .use(
      openapi({
        path: DOCS_PATH,
        specPath: OPENAPI_PATH,
        documentation: {
          info: {
            title: "Feed service",
            version: "0.1.0",
            description: "A social feed: follows, immutable posts, likes, a personal feed.",
          },
          components: {
            securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
          },
        },
        exclude: { paths: [DOCS_PATH, OPENAPI_PATH] },
      }),
    );
}
