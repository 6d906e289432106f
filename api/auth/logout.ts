import type { Deps } from "../deps.ts";
import { type CookieJar, presented, REFRESH_COOKIE } from "./refresh-cookie.ts";
import { endSession } from "./session.ts";

/** POST /auth/logout: revokes the session of the body's or the cookie's refresh token (204). */
export async function logout(
  deps: Deps,
  body: { refresh_token?: string },
  origin: string | undefined,
  cookie: CookieJar,
  set: { status?: number | string },
): Promise<null> {
  const { token, from } = presented(deps, body, cookie, origin);
  await endSession(deps, token);
  if (from === "cookie") cookie[REFRESH_COOKIE]!.remove();
  set.status = 204;
  return null;
}
