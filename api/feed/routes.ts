import { Elysia } from "elysia";
import type { Deps } from "../deps.ts";
import { bearerSecurity, requireAuth } from "../plugins/auth.ts";
import { PageQuery, PageSchema, problems } from "../schemas.ts";
import { readFeed } from "./read-feed.ts";

export const feedRoutes = (deps: Deps) =>
  new Elysia()
    .use(requireAuth(deps))
    .get("/feed", ({ viewer, query }) => readFeed(deps, viewer.id, query.limit ?? 20, query.cursor), {
      query: PageQuery,
      response: { 200: PageSchema, ...problems(400, 401) },
      detail: { summary: "Your personal feed, newest first", tags: ["feed"], security: bearerSecurity },
    });
