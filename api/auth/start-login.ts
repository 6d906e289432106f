import { generateCodeVerifier, generateState } from "arctic";
import type { Deps } from "../deps.ts";
import { httpsOf } from "../plugins/security.ts";
import type { ResponseSet } from "../schemas.ts";
import { LOGIN_COOKIE, sealLoginState } from "./login-state.ts";
import type { Provider } from "./providers.ts";
import type { CookieJar } from "./refresh-cookie.ts";
import { checkReturnTo } from "./return-code.ts";

/**
 * GET /auth/{provider}/login: a 302 to the provider, with state, PKCE S256 and an OIDC nonce
 * kept in an encrypted, httpOnly login cookie; `return_to` (one of AUTH_RETURN_URLS) is checked
 * before any redirect.
 */
export async function startLogin(
  deps: Deps,
  provider: Provider,
  query: { login_hint?: string; return_to?: string },
  cookie: CookieJar,
  set: ResponseSet,
): Promise<null> {
  const returnTo = query.return_to === undefined ? undefined : checkReturnTo(deps, query.return_to);
  const login = {
    provider: provider.name,
    state: generateState(),
    verifier: generateCodeVerifier(),
    nonce: generateState(),
    ...(returnTo ? { returnTo } : {}),
  };
  const url = await provider.authorizationURL({ ...login, loginHint: query.login_hint });
  cookie[LOGIN_COOKIE]!.set({
    value: await sealLoginState(deps.config, login),
    httpOnly: true,
    sameSite: "lax",
    // Secure cookies wherever the api is served over https, and always in production.
    secure: httpsOf(deps.config),
    path: "/auth",
    maxAge: deps.config.LOGIN_STATE_TTL_SECONDS,
  });
  set.status = 302;
  set.headers.location = url.toString();
  set.headers["cache-control"] = "no-store";
  return null;
}
