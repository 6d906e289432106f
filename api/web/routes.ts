import { Elysia } from "elysia";
import type { Deps } from "../deps.ts";
import { pathOf } from "../plugins/security.ts";
import { serveApp, WEB_DIST } from "./serve-app.ts";

// GET /app and GET /app/{path}: the web client (./serve-app.ts); not in the OpenAPI document.

export const APP_PATH = "/app/";

export const webRoutes = (deps: Deps, dir = WEB_DIST) => {
  const serve = serveApp(deps, dir);
  const hide = { detail: { hide: true } };
  return (
    new Elysia()
      // Elysia routes /app and /app/ alike: the page's relative URLs need the slash.
      .get(
        "/app",
        ({ request, set, redirect }) =>
          pathOf(request.url) === "/app" ? redirect(APP_PATH, 308) : serve("", request, set),
        hide,
      )
      .get("/app/*", ({ params, request, set }) => serve(params["*"], request, set), hide)
  );
};
