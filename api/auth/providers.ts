import { CodeChallengeMethod, Google, OAuth2Client, type OAuth2Tokens } from "arctic";
import { createRemoteJWKSet, type JWTVerifyGetKey } from "jose";
import type { Config } from "../../core/config.ts";
import { AppError } from "../../core/errors.ts";
import { ID_TOKEN_REJECTED, verifyIdToken } from "./id-token.ts";
import {
  type ExternalProfile,
  type GithubEmail,
  type GithubUser,
  profileFromGithub,
  profileFromIdClaims,
} from "./profiles.ts";

// Sign-in providers through arctic: github (OAuth2 + its API), google and a generic OpenID
// Connect provider found by discovery. A provider without credentials is not enabled.

export type ProviderName = "github" | "google" | "oidc";

export interface AuthorizeInput {
  state: string;
  verifier: string;
  nonce: string;
  loginHint?: string;
}

export interface Provider {
  name: ProviderName;
  authorizationURL(i: AuthorizeInput): Promise<URL>;
  exchange(code: string, verifier: string): Promise<OAuth2Tokens>;
  profile(tokens: OAuth2Tokens, nonce: string): Promise<ExternalProfile>;
}

const TIMEOUT_MS = 5000;
const DISCOVERY_TTL_MS = 3_600_000;

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  id_token_signing_alg_values_supported?: string[];
}

/**
 * OpenID discovery, cached for an hour, and the provider's JWKS through jose, which caches the
 * keys and fetches them again when a token names a key id it has not seen (key rotation).
 */
export class OidcDiscovery {
  private doc: Discovery | null = null;
  private fetchedAt = 0;
  private jwksFor: { uri: string; set: JWTVerifyGetKey } | null = null;

  constructor(
    readonly issuer: string,
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  async get(): Promise<Discovery> {
    if (this.doc && Date.now() - this.fetchedAt < DISCOVERY_TTL_MS) return this.doc;
    const url = `${this.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
    // The client learns that the provider is out of reach; where and why is for the log.
    const unreachable = (internal: Record<string, unknown>) =>
      new AppError("provider_unavailable", "the identity provider could not be reached", {
        internal: { discovery: url, ...internal },
      });
    let res: Response;
    try {
      res = await this.fetchFn(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (e) {
      throw unreachable({ error: String(e) });
    }
    if (!res.ok) throw unreachable({ provider_status: res.status });
    let doc: Discovery;
    try {
      doc = (await res.json()) as Discovery;
    } catch (e) {
      throw unreachable({ error: String(e) });
    }
    // The document must describe the issuer we were configured with (OIDC Discovery §4.3).
    if (String(doc.issuer).replace(/\/$/, "") !== this.issuer.replace(/\/$/, "")) {
      throw unreachable({ error: `discovery names issuer ${doc.issuer}, expected ${this.issuer}` });
    }
    this.doc = doc;
    this.fetchedAt = Date.now();
    return doc;
  }

  async jwks(): Promise<JWTVerifyGetKey> {
    const doc = await this.get();
    if (this.jwksFor?.uri !== doc.jwks_uri) {
      this.jwksFor = {
        uri: doc.jwks_uri,
        set: createRemoteJWKSet(new URL(doc.jwks_uri), {
          timeoutDuration: TIMEOUT_MS,
          cooldownDuration: 30_000,
          cacheMaxAge: 600_000,
        }),
      };
    }
    return this.jwksFor.set;
  }
}

function withParams(url: URL, params: Record<string, string | undefined>): URL {
  for (const [k, v] of Object.entries(params)) if (v) url.searchParams.set(k, v);
  return url;
}

async function verifiedProfile(d: OidcDiscovery, clientId: string, tokens: OAuth2Tokens, nonce: string) {
  let idToken: string;
  try {
    idToken = tokens.idToken();
  } catch {
    throw new AppError("id_token_invalid", ID_TOKEN_REJECTED, {
      internal: { reason: "the provider sent none" },
    });
  }
  const doc = await d.get();
  const claims = await verifyIdToken(idToken, { jwks: await d.jwks(), issuer: doc.issuer, clientId, nonce });
  return profileFromIdClaims(claims);
}

const OIDC_SCOPES = ["openid", "profile", "email"];

export function oidcProvider(
  issuer: string,
  clientId: string,
  secret: string | null,
  redirectURI: string,
  fetchFn: typeof fetch = fetch,
): Provider {
  const discovery = new OidcDiscovery(issuer, fetchFn);
  const client = new OAuth2Client(clientId, secret, redirectURI);
  return {
    name: "oidc",
    async authorizationURL({ state, verifier, nonce, loginHint }) {
      const doc = await discovery.get();
      const url = client.createAuthorizationURLWithPKCE(
        doc.authorization_endpoint,
        state,
        CodeChallengeMethod.S256,
        verifier,
        OIDC_SCOPES,
      );
      return withParams(url, { nonce, login_hint: loginHint });
    },
    async exchange(code, verifier) {
      return client.validateAuthorizationCode((await discovery.get()).token_endpoint, code, verifier);
    },
    profile: (tokens, nonce) => verifiedProfile(discovery, clientId, tokens, nonce),
  };
}

export function googleProvider(
  clientId: string,
  secret: string,
  redirectURI: string,
  fetchFn: typeof fetch = fetch,
): Provider {
  const google = new Google(clientId, secret, redirectURI);
  const discovery = new OidcDiscovery("https://accounts.google.com", fetchFn);
  return {
    name: "google",
    async authorizationURL({ state, verifier, nonce, loginHint }) {
      return withParams(google.createAuthorizationURL(state, verifier, OIDC_SCOPES), {
        nonce,
        login_hint: loginHint,
      });
    },
    exchange: (code, verifier) => google.validateAuthorizationCode(code, verifier),
    profile: (tokens, nonce) => verifiedProfile(discovery, clientId, tokens, nonce),
  };
}

export const GITHUB = {
  authorize: "https://github.com/login/oauth/authorize",
  token: "https://github.com/login/oauth/access_token",
  api: "https://api.github.com",
};

export function githubProvider(
  clientId: string,
  secret: string,
  redirectURI: string,
  fetchFn: typeof fetch = fetch,
): Provider {
  // arctic's GitHub class has no PKCE; its generic client does, and GitHub accepts S256.
  const client = new OAuth2Client(clientId, secret, redirectURI);
  const api = async <T>(path: string, token: string): Promise<T> => {
    let res: Response;
    try {
      res = await fetchFn(`${GITHUB.api}${path}`, {
        headers: {
          authorization: `Bearer ${token}`,
          accept: "application/vnd.github+json",
          "user-agent": "feed-service",
        },
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (e) {
      throw new AppError("provider_unavailable", "the identity provider could not be reached", {
        internal: { github_api: path, error: String(e) },
      });
    }
    if (!res.ok)
      throw new AppError("provider_error", "the identity provider refused to share the profile", {
        internal: { github_api: path, provider_status: res.status },
      });
    return (await res.json()) as T;
  };
  return {
    name: "github",
    async authorizationURL({ state, verifier, loginHint }) {
      const url = client.createAuthorizationURLWithPKCE(
        GITHUB.authorize,
        state,
        CodeChallengeMethod.S256,
        verifier,
        ["read:user", "user:email"],
      );
      // GitHub's name for a login hint is `login`; OAuth2 has no nonce (no ID token).
      return withParams(url, { login: loginHint });
    },
    exchange: (code, verifier) => client.validateAuthorizationCode(GITHUB.token, code, verifier),
    async profile(tokens) {
      const token = tokens.accessToken();
      const [user, emails] = await Promise.all([
        api<GithubUser>("/user", token),
        api<GithubEmail[]>("/user/emails", token),
      ]);
      return profileFromGithub(user, emails);
    },
  };
}

/** The enabled providers: those whose credentials are configured. */
export function enabledProviders(config: Config, fetchFn: typeof fetch = fetch): Map<ProviderName, Provider> {
  const redirect = (p: ProviderName) => `${config.PUBLIC_URL.replace(/\/$/, "")}/auth/${p}/callback`;
  const out = new Map<ProviderName, Provider>();
  if (config.GITHUB_CLIENT_ID && config.GITHUB_CLIENT_SECRET) {
    out.set(
      "github",
      githubProvider(config.GITHUB_CLIENT_ID, config.GITHUB_CLIENT_SECRET, redirect("github"), fetchFn),
    );
  }
  if (config.GOOGLE_CLIENT_ID && config.GOOGLE_CLIENT_SECRET) {
    out.set(
      "google",
      googleProvider(config.GOOGLE_CLIENT_ID, config.GOOGLE_CLIENT_SECRET, redirect("google"), fetchFn),
    );
  }
  if (config.OIDC_ISSUER && config.OIDC_CLIENT_ID) {
    out.set(
      "oidc",
      oidcProvider(
        config.OIDC_ISSUER,
        config.OIDC_CLIENT_ID,
        config.OIDC_CLIENT_SECRET ?? null,
        redirect("oidc"),
        fetchFn,
      ),
    );
  }
  return out;
}

/** The enabled provider of that name, or 404 naming the enabled ones. */
export function providerOf(providers: Map<ProviderName, Provider>, name: string): Provider {
  const p = providers.get(name as ProviderName);
  if (!p) {
    const enabled = [...providers.keys()].join(", ") || "none";
    throw new AppError(
      "provider_not_found",
      `sign-in provider "${name}" is unknown or not enabled (enabled: ${enabled})`,
    );
  }
  return p;
}

/** GET /auth/providers: the enabled providers and where each sign-in starts. */
export function listProviders(providers: Map<ProviderName, Provider>) {
  return { providers: [...providers.keys()].map((name) => ({ name, login_url: `/auth/${name}/login` })) };
}
