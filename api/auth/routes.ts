import {
  ArcticFetchError,
  generateCodeVerifier,
  generateState,
  OAuth2RequestError,
  type OAuth2Tokens,
  UnexpectedErrorResponseBodyError,
} from "arctic";
import { Elysia, t } from "elysia";
import { AppError } from "../../core/errors.ts";
import { keys } from "../../core/redis-keys.ts";
import { findUser } from "../../db/users.ts";
import type { Deps } from "../deps.ts";
import { limitByIp } from "../plugins/rate-limit.ts";
import { httpsOf } from "../plugins/security.ts";
import { NoQuery, problems, UserSchema } from "../schemas.ts";
import { LOGIN_COOKIE, openLoginState, sealLoginState } from "./login-state.ts";
import { enabledProviders, type Provider, type ProviderName } from "./providers.ts";
import { deliver, presented, REFRESH_COOKIE } from "./refresh-cookie.ts";
import { checkReturnTo, issueCode, spendCode } from "./return-code.ts";
import { endSession, REFRESH_TOKEN_PATTERN, refreshSession, startSession } from "./session.ts";
import { findOrCreateUser } from "./sign-in.ts";

// GET /auth/providers, GET /auth/{provider}/login, GET /auth/{provider}/callback,
// POST /auth/refresh, POST /auth/logout (DESIGN §6).

const TokenPairSchema = t.Object({
  access_token: t.String(),
  token_type: t.Literal("Bearer"),
  expires_in: t.Integer(),
  refresh_token: t.Optional(
    t.String({
      description: 'absent when the request chose "refresh": "cookie": it is in the feed_refresh cookie',
    }),
  ),
  user: UserSchema,
});
const RefreshIn = t.Optional(
  t.Union([t.Literal("body"), t.Literal("cookie")], {
    description:
      "where the new refresh token goes: the body (default), or an HttpOnly, Secure, SameSite=Strict cookie scoped to /auth, for browser clients",
  }),
);
const RefreshBody = t.Object(
  {
    refresh_token: t.Optional(
      t.String({
        pattern: REFRESH_TOKEN_PATTERN,
        description:
          "the opaque refresh token from sign-in or the last refresh; without it, the feed_refresh cookie's",
      }),
    ),
    refresh: RefreshIn,
  },
  { additionalProperties: false },
);
const ProviderParams = t.Object({
  provider: t.String({ maxLength: 32, description: "github, google or oidc" }),
});

export const authRoutes = (
  deps: Deps,
  providers: Map<ProviderName, Provider> = enabledProviders(deps.config),
) => {
  // Secure cookies wherever the api is served over https, and always in production.
  const secure = httpsOf(deps.config);
  const providerOf = (name: string): Provider => {
    const p = providers.get(name as ProviderName);
    if (!p) {
      const enabled = [...providers.keys()].join(", ") || "none";
      throw new AppError(
        "provider_not_found",
        `sign-in provider "${name}" is unknown or not enabled (enabled: ${enabled})`,
      );
    }
    return p;
  };

  return new Elysia()
    .use(limitByIp(deps))
    .get(
      "/auth/providers",
      () => ({
        providers: [...providers.keys()].map((name) => ({ name, login_url: `/auth/${name}/login` })),
      }),
      {
        response: {
          200: t.Object({ providers: t.Array(t.Object({ name: t.String(), login_url: t.String() })) }),
        },
        detail: { summary: "Enabled sign-in providers", tags: ["auth"] },
      },
    )
    .get(
      "/auth/:provider/login",
      async ({ params, query, cookie, set }) => {
        const provider = providerOf(params.provider);
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
          secure,
          path: "/auth",
          maxAge: deps.config.LOGIN_STATE_TTL_SECONDS,
        });
        set.status = 302;
        set.headers.location = url.toString();
        set.headers["cache-control"] = "no-store";
        return null;
      },
      {
        params: ProviderParams,
        query: t.Object(
          {
            login_hint: t.Optional(
              t.String({ minLength: 1, maxLength: 255, description: "passed to the provider as login_hint" }),
            ),
            return_to: t.Optional(
              t.String({
                maxLength: 2048,
                description:
                  "an app to return to (exactly one of AUTH_RETURN_URLS): the callback then answers 302 to return_to?code=…, for POST /auth/exchange",
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 302: t.Null(), ...problems(400, 404, 502) },
        detail: {
          summary: "Start signing in: 302 to the provider (state, PKCE S256, nonce)",
          tags: ["auth"],
        },
      },
    )
    .get(
      "/auth/:provider/callback",
      async ({ params, query, cookie, set }) => {
        const provider = providerOf(params.provider);
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
          if (fresh !== "OK")
            throw new AppError("login_state_invalid", "this sign-in state was already used");
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
          let tokens: OAuth2Tokens;
          try {
            tokens = await provider.exchange(query.code, login.verifier);
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
      },
      {
        params: ProviderParams,
        query: t.Object({
          code: t.Optional(t.String({ maxLength: 2048 })),
          state: t.Optional(t.String({ maxLength: 512 })),
          error: t.Optional(t.String({ maxLength: 256 })),
          error_description: t.Optional(t.String({ maxLength: 2048 })),
        }),
        response: { 200: TokenPairSchema, 302: t.Null(), ...problems(400, 401, 404, 502) },
        detail: {
          summary:
            "Finish signing in; creates the user on first sign-in. The token pair, or with return_to a 302 to the app with a one-time code",
          tags: ["auth"],
        },
      },
    )
    .post(
      "/auth/exchange",
      async ({ body, headers, cookie }) => {
        const userId = await spendCode(deps, body.code, { returnTo: body.return_to, origin: headers.origin });
        const user = await findUser(deps.sql, userId);
        if (!user) throw new AppError("auth_code_invalid", "the user of this sign-in code no longer exists");
        return deliver(deps, await startSession(deps, user), body.refresh, cookie);
      },
      {
        body: t.Object(
          {
            code: t.String({
              minLength: 1,
              maxLength: 256,
              description: "the code the sign-in returned with",
            }),
            return_to: t.Optional(
              t.String({ maxLength: 2048, description: "the app the code was issued for" }),
            ),
            refresh: RefreshIn,
          },
          { additionalProperties: false },
        ),
        query: NoQuery,
        response: { 200: TokenPairSchema, ...problems(400, 415) },
        detail: {
          summary: "Exchange a sign-in's one-time code (at most 60 s old, single use) for the token pair",
          tags: ["auth"],
        },
      },
    )
    .post(
      "/auth/refresh",
      async ({ body, cookie, headers }) => {
        const { token, from } = presented(deps, body, cookie, headers.origin);
        // A cookie's token is renewed in the cookie unless the request asks otherwise.
        return deliver(deps, await refreshSession(deps, token), body.refresh ?? from, cookie);
      },
      {
        body: RefreshBody,
        query: NoQuery,
        response: { 200: TokenPairSchema, ...problems(400, 401, 415) },
        detail: {
          summary:
            "Rotate a refresh token (the body's, or the feed_refresh cookie's): a new pair; the old token is spent",
          tags: ["auth"],
        },
      },
    )
    .post(
      "/auth/logout",
      async ({ body, set, cookie, headers }) => {
        const { token, from } = presented(deps, body, cookie, headers.origin);
        await endSession(deps, token);
        if (from === "cookie") cookie[REFRESH_COOKIE]!.remove();
        set.status = 204;
        return null;
      },
      {
        body: RefreshBody,
        query: NoQuery,
        response: { 204: t.Null(), ...problems(400, 401, 415) },
        detail: {
          summary:
            "Sign out (the body's refresh token, or the feed_refresh cookie's, which is cleared): its whole family is revoked",
          tags: ["auth"],
        },
      },
    );
};
