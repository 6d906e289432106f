import { Elysia } from "elysia";
import { type CachedUser, cacheUsers } from "../../core/cache.ts";
import { perConfig } from "../../core/config.ts";
import { AppError } from "../../core/errors.ts";
import { keys } from "../../core/redis-keys.ts";
import { createTokenVerifier, TokenError } from "../../core/tokens.ts";
import { findUser } from "../../db/users.ts";
import type { Deps } from "../deps.ts";
import { liveMemory } from "../hydrate/memory.ts";
import { enforceRate } from "./rate-limit.ts";

// Bearer authentication: verify the access token (pinned algorithm, issuer, audience, expiry),
// then load the user through the user cache, so an authenticated request usually costs one
// Redis GET and no PostgreSQL round-trip.

export type Viewer = CachedUser;

const challenge = (error: string, description: string) =>
  `Bearer realm="feed", error="${error}", error_description="${description.replaceAll('"', "'")}"`;

const verifierOf = perConfig(createTokenVerifier);

export async function authenticate(deps: Deps, header: string | undefined): Promise<Viewer> {
  if (!header) {
    throw new AppError(
      "unauthorized",
      "missing Authorization header; send 'Authorization: Bearer <access token>'",
      {
        headers: { "www-authenticate": 'Bearer realm="feed"' },
      },
    );
  }
  const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim());
  if (!m) {
    throw new AppError("unauthorized", "Authorization header must be 'Bearer <access token>'", {
      headers: { "www-authenticate": challenge("invalid_request", "malformed Authorization header") },
    });
  }
  let sub: string;
  try {
    sub = (await verifierOf(deps.config)(m[1]!)).sub;
  } catch (e) {
    const why = e instanceof TokenError ? e.message : "token is invalid";
    throw new AppError("unauthorized", `invalid access token: ${why}`, {
      headers: { "www-authenticate": challenge("invalid_token", why) },
    });
  }
  // The viewer's card: the process's memory, then Redis, then PostgreSQL (as post authors are).
  const memory = liveMemory(deps);
  const remembered = memory?.users.get(sub);
  if (remembered) return remembered;
  const generation = memory?.generation() ?? 0;
  const cached = await deps.redis.get(keys.user(sub)).catch(() => null);
  if (cached) {
    const viewer = JSON.parse(cached) as Viewer;
    memory?.fill(memory.users, generation, sub, viewer);
    return viewer;
  }
  const user = await findUser(deps.sql, sub);
  if (!user) {
    throw new AppError("unauthorized", "the token's user no longer exists", {
      headers: { "www-authenticate": challenge("invalid_token", "unknown user") },
    });
  }
  await cacheUsers(deps.redis, [user], deps.config.CACHE_TTL_SECONDS).catch(() => {});
  return user;
}

/** The token, then one request of the user's budget: reads for GET/HEAD, writes for the rest. */
async function admit(deps: Deps, request: Request, headers: Record<string, string>): Promise<Viewer> {
  const viewer = await authenticate(deps, request.headers.get("authorization") ?? undefined);
  const which = request.method === "GET" || request.method === "HEAD" ? "reads" : "writes";
  await enforceRate(deps, which, viewer.id, headers);
  return viewer;
}

/** Viewers admitted by authBeforeBody, handed on to requireAuth's derive. */
const admittedBeforeBody = new WeakMap<Request, Viewer>();

/**
 * The first parse step of routes that take uploads: Elysia runs a route's parse hook before
 * derive, so without it a stranger's 5 MB body was read (and the token checked after). The
 * token and the write limit are checked here, before a body byte is read. Returns undefined, so
 * the route's next parser reads the body. A refusal closes the connection: an unread body cannot
 * be told from a next request.
 */
export const authBeforeBody =
  (deps: Deps) =>
  async ({ request, set }: { request: Request; set: { headers: unknown } }): Promise<undefined> => {
    try {
      admittedBeforeBody.set(request, await admit(deps, request, set.headers as Record<string, string>));
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      throw new AppError(e.code, e.detail, {
        ...e.extra,
        headers: { ...e.extra.headers, connection: "close" },
      });
    }
    return undefined;
  };

/**
 * Routes registered after this plugin (in the same instance) require a valid access token, and
 * spend one request of the user's rate limit.
 * derive, not resolve: it runs before validation, so an anonymous caller learns nothing about
 * a route's body rules and gets 401 first. Routes with a body worth refusing unread also name
 * authBeforeBody as their first parser; the derive then takes the viewer it admitted.
 */
export const requireAuth = (deps: Deps) =>
  new Elysia().derive({ as: "scoped" }, async ({ request, set }) => ({
    viewer:
      admittedBeforeBody.get(request) ?? (await admit(deps, request, set.headers as Record<string, string>)),
  }));

export const bearerSecurity = [{ bearer: [] as string[] }];
