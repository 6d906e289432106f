import { AppError } from "../../core/errors.ts";
import type { Deps } from "../deps.ts";
import type { TokenPair } from "./session.ts";

// A browser client may keep its refresh token in a cookie instead of in script-readable storage,
// chosen per request with `"refresh": "cookie"`: HttpOnly (no script reads it, so an XSS cannot
// carry it off), Secure, SameSite=Strict and Path=/auth (sent only to the auth routes).
//
// Cross-site request forgery: a cookie that authenticates is exactly what CSRF abuses, so three
// things stand in the way. SameSite=Strict: a browser attaches it to no request that another
// site starts, navigations included. The routes take JSON bodies only (415 otherwise), which a
// cross-origin page cannot send without a CORS preflight that the api answers only for
// CORS_ORIGINS. And a request that carries an Origin must come from PUBLIC_URL's origin or from
// CORS_ORIGINS (checkOrigin below). Only the refresh token rides in the cookie: the access token
// stays a bearer header, which no browser adds on its own.

export const REFRESH_COOKIE = "feed_refresh";

export type RefreshIn = "body" | "cookie";

export interface CookieJar {
  [name: string]: { value?: unknown; set(o: Record<string, unknown>): void; remove(): void } | undefined;
}

/** The answer for the chosen place: in cookie mode the token leaves the body for the cookie. */
export function deliver(
  deps: Pick<Deps, "config">,
  pair: TokenPair,
  refreshIn: RefreshIn | undefined,
  cookie: CookieJar,
): Omit<TokenPair, "refresh_token"> & { refresh_token?: string } {
  if (refreshIn !== "cookie") return pair;
  cookie[REFRESH_COOKIE]!.set({
    value: pair.refresh_token,
    httpOnly: true,
    secure: true,
    sameSite: "strict",
    path: "/auth",
    maxAge: deps.config.REFRESH_ABSOLUTE_DAYS * 86_400,
  });
  const { refresh_token: _, ...rest } = pair;
  return rest;
}

/** The refresh token of a request: its body's, else its cookie's (then from an allowed origin). */
export function presented(
  deps: Pick<Deps, "config">,
  body: { refresh_token?: string },
  cookie: CookieJar,
  origin: string | undefined,
): { token: string; from: RefreshIn } {
  if (body.refresh_token) return { token: body.refresh_token, from: "body" };
  const value = cookie[REFRESH_COOKIE]?.value;
  if (typeof value !== "string" || !value)
    throw new AppError("refresh_token_invalid", "no refresh token: none in the body, and no refresh cookie");
  checkOrigin(deps, origin);
  return { token: value, from: "cookie" };
}

function checkOrigin(deps: Pick<Deps, "config">, origin: string | undefined): void {
  if (origin === undefined) return;
  const allowed = [new URL(deps.config.PUBLIC_URL).origin, ...deps.config.CORS_ORIGINS];
  if (!allowed.includes(origin))
    throw new AppError(
      "refresh_token_invalid",
      "the refresh cookie is accepted only from this service's own origins",
    );
}
