import { Elysia } from "elysia";
import { type CachedUser, cacheUsers } from "../../core/cache.ts";
import { perConfig } from "../../core/config.ts";
import { AppError } from "../../core/errors.ts";
import { keys } from "../../core/redis-keys.ts";
import { createTokenVerifier, TokenError } from "../../core/tokens.ts";
import { findUser } from "../../db/users.ts";
import type { Deps } from "../deps.ts";
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
  const cached = await deps.redis.get(keys.user(sub)).catch(() => null);
  if (cached) return JSON.parse(cached) as Viewer;
  const user = await findUser(deps.sql, sub);
  if (!user) {
    throw new AppError("unauthorized", "the token's user no longer exists", {
      headers: { "www-authenticate": challenge("invalid_token", "unknown user") },
    });
  }
  await cacheUsers(deps.redis, [user], deps.config.CACHE_TTL_SECONDS).catch(() => {});
  return user;
}

/**
 * Routes registered after this plugin (in the same instance) require a valid access token, and
 * spend one request of the user's rate limit.
 * derive, not resolve: it runs before validation, so an anonymous caller learns nothing about
 * a route's body rules and gets 401 first.
 */
export const requireAuth = (deps: Deps) =>
  new Elysia().derive({ as: "scoped" }, async ({ headers, request, set }) => {
    const viewer = await authenticate(deps, headers.authorization);
    // The user's budget: reads for GET/HEAD, writes for everything else.
    const which = request.method === "GET" || request.method === "HEAD" ? "reads" : "writes";
    await enforceRate(deps, which, viewer.id, set.headers as Record<string, string>);
    return { viewer };
  });

export const bearerSecurity = [{ bearer: [] as string[] }];
