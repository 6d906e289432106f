import { Elysia } from "elysia";
import type { Deps } from "../deps.ts";
import { bearerSecurity, requireAuth } from "../plugins/auth.ts";
import { PageQuery, PageSchema, problems } from "../schemas.ts";
import { readFeed } from "./read-feed.ts";

// GET /feed.

export const feedRoutes = (deps: Deps) =>
  new Elysia()
    .use(requireAuth(deps))
    .get("/feed", ({ viewer, query, request, set }) => readFeed(deps, viewer, query, request, set), {
      query: PageQuery,
      response: { 200: PageSchema, ...problems(400, 401) },
      detail: {
        summary:
          "Your personal feed, newest first: older posts with cursor, newer ones with after (ETag; If-None-Match answers 304)",
        tags: ["feed"],
        security: bearerSecurity,
      },
    });
