import {
  ArcticFetchError,
  OAuth2RequestError,
  type OAuth2Tokens,
  UnexpectedErrorResponseBodyError,
} from "arctic";
import { AppError } from "../../core/errors.ts";
import { keys } from "../../core/redis-keys.ts";
import type { Deps } from "../deps.ts";
import type { ResponseSet } from "../schemas.ts";
import { LOGIN_COOKIE, openLoginState } from "./login-state.ts";
import type { Provider } from "./providers.ts";
import type { CookieJar } from "./refresh-cookie.ts";
import { issueCode } from "./return-code.ts";
import { startSession } from "./session.ts";
import { findOrCreateUser } from "./sign-in.ts";

/**
 * GET /auth/{provider}/callback: finishes the sign-in the login cookie started (its state burnt
 * in Redis, single use), creates the user on the first sign-in, and answers the token pair, or
 * with return_to a 302 to the app with a one-time code.
 */
export async function callback(
  deps: Deps,
  provider: Provider,
  query: { code?: string; state?: string; error?: string; error_description?: string },
  cookie: CookieJar,
  set: ResponseSet,
) {
  const jar = cookie[LOGIN_COOKIE]!;
  const sealed = typeof jar.value === "string" && jar.value ? jar.value : undefined;
  // Whatever happens next, this attempt's cookie is spent.
  jar.remove();
  try {
    const login = await openLoginState(deps.config, sealed);
    if (login.provider !== provider.name)
      throw new AppError(
        "login_state_invalid",
        `this sign-in was started for ${login.provider}, not ${provider.name}`,
      );
    if (!query.state || query.state !== login.state)
      throw new AppError("login_state_invalid", "state does not match this browser's sign-in");
    const fresh = await deps.redis.set(
      keys.usedLoginState(login.state),
      "1",
      "EX",
      deps.config.LOGIN_STATE_TTL_SECONDS,
      "NX",
    );
    if (fresh !== "OK") throw new AppError("login_state_invalid", "this sign-in state was already used");
    // The provider's own words stay in the log: its texts may name its internals, and
    // echoing them would let a crafted callback put any sentence in our answer.
    if (query.error) {
      throw new AppError("provider_error", "the identity provider did not complete the sign-in", {
        internal: { provider_error: query.error, provider_error_description: query.error_description },
      });
    }
    if (!query.code)
      throw new AppError("validation_failed", 'the callback has no "code"', {
        errors: [{ location: "query", path: "code", message: "required" }],
      });
    const tokens = await exchange(provider, query.code, login.verifier);
    const profile = await provider.profile(tokens, login.nonce);
    const { user, created } = await findOrCreateUser(deps, provider.name, profile);
    deps.log?.({
      level: "info",
      msg: created ? "user registered" : "user signed in",
      provider: provider.name,
      user_id: user.id,
    });
    if (login.returnTo) {
      // Back to the app with a one-time code; the app exchanges it for the tokens.
      set.status = 302;
      set.headers.location = (await issueCode(deps, user.id, login.returnTo)).toString();
      set.headers["cache-control"] = "no-store";
      return null;
    }
    return startSession(deps, user);
  } catch (e) {
    // Every refused or failed sign-in is logged by the problem plugin, with the request id.
    if (e instanceof AppError)
      throw e.withInternal({
        msg: e.status < 500 ? "sign-in refused" : "sign-in failed",
        provider: provider.name,
      });
    throw e;
  }
}

/** The provider's tokens for the code, its failures told apart: a refused code, or an outage. */
async function exchange(provider: Provider, code: string, verifier: string): Promise<OAuth2Tokens> {
  try {
    return await provider.exchange(code, verifier);
  } catch (e) {
    if (e instanceof AppError) throw e;
    const refusedCode = "the identity provider refused the authorization code";
    if (e instanceof OAuth2RequestError)
      throw new AppError("provider_error", refusedCode, {
        internal: { provider_error: e.code, provider_error_description: e.description },
      });
    if (e instanceof ArcticFetchError)
      throw new AppError("provider_unavailable", "the identity provider could not be reached", {
        internal: { error: String(e.cause ?? e) },
      });
    // A 4xx is the provider refusing this code, whatever shape its body has: the
    // client's mistake (a made-up or spent code), not an outage to answer 502 for.
    if (e instanceof UnexpectedErrorResponseBodyError && e.status >= 400 && e.status < 500)
      throw new AppError("provider_error", refusedCode, {
        internal: { provider_status: e.status, provider_body: JSON.stringify(e.data).slice(0, 2000) },
      });
    throw new AppError("provider_unavailable", "the identity provider answered unexpectedly", {
      internal: { error: String(e), provider_status: (e as { status?: unknown }).status },
    });
  }
}
