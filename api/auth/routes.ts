import { Elysia, t } from "elysia";
import type { Deps } from "../deps.ts";
import { limitByIp } from "../plugins/rate-limit.ts";
import { NoQuery, problems, UserSchema } from "../schemas.ts";
import { callback } from "./callback.ts";
import { exchangeCode } from "./exchange-code.ts";
import { logout } from "./logout.ts";
import {
  enabledProviders,
  listProviders,
  type Provider,
  type ProviderName,
  providerOf,
} from "./providers.ts";
import { refresh } from "./refresh.ts";
import { REFRESH_TOKEN_PATTERN } from "./session.ts";
import { startLogin } from "./start-login.ts";

// GET /auth/providers, GET /auth/{provider}/login, GET /auth/{provider}/callback,
// POST /auth/exchange, POST /auth/refresh, POST /auth/logout (docs/architecture.md §6).

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
) =>
  new Elysia()
    .use(limitByIp(deps))
    .get("/auth/providers", () => listProviders(providers), {
      response: {
        200: t.Object({ providers: t.Array(t.Object({ name: t.String(), login_url: t.String() })) }),
      },
      detail: { summary: "Enabled sign-in providers", tags: ["auth"] },
    })
    .get(
      "/auth/:provider/login",
      ({ params, query, cookie, set }) =>
        startLogin(deps, providerOf(providers, params.provider), query, cookie, set),
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
      ({ params, query, cookie, set }) =>
        callback(deps, providerOf(providers, params.provider), query, cookie, set),
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
    .post("/auth/exchange", ({ body, headers, cookie }) => exchangeCode(deps, body, headers.origin, cookie), {
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
    })
    .post("/auth/refresh", ({ body, headers, cookie }) => refresh(deps, body, headers.origin, cookie), {
      body: RefreshBody,
      query: NoQuery,
      response: { 200: TokenPairSchema, ...problems(400, 401, 415) },
      detail: {
        summary:
          "Rotate a refresh token (the body's, or the feed_refresh cookie's): a new pair; the old token is spent",
        tags: ["auth"],
      },
    })
    .post(
      "/auth/logout",
      ({ body, headers, cookie, set }) => logout(deps, body, headers.origin, cookie, set),
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
