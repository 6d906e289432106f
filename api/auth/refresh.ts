import type { Deps } from "../deps.ts";
import { type CookieJar, deliver, presented, type RefreshIn } from "./refresh-cookie.ts";
import { refreshSession } from "./session.ts";

/** POST /auth/refresh: a new pair for the body's or the cookie's refresh token, which is spent. */
export async function refresh(
  deps: Deps,
  body: { refresh_token?: string; refresh?: RefreshIn },
  origin: string | undefined,
  cookie: CookieJar,
) {
  const { token, from } = presented(deps, body, cookie, origin);
  // A cookie's token is renewed in the cookie unless the request asks otherwise.
  return deliver(deps, await refreshSession(deps, token), body.refresh ?? from, cookie);
}
