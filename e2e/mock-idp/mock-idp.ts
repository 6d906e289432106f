import { Events, OAuth2Server } from "oauth2-mock-server";

// The bundled identity provider for development and tests, on oauth2-mock-server: discovery,
// JWKS, RS256 ID tokens, PKCE, and no login form — whoever `login_hint` names is signed in
// (`sub` = the hint; email and name derived from it). Never for production.

export interface MockIdp {
  issuer: string;
  stop(): Promise<void>;
  /**
   * The next token response carries this error instead (tests of provider failures), with this
   * error_description and HTTP status (default: a description naming the error, 400).
   */
  failNextToken(error: string, o?: { description?: string; status?: number }): void;
  /** The next ID token gets these claims (tests of ID-token verification). */
  tamperNextIdToken(claims: Record<string, unknown>): void;
}

const HINT = /^[A-Za-z0-9._-]{1,64}$/;

export interface MockIdpOptions {
  /** The issuer to sign with and to advertise (default: the address it listens on). */
  issuer?: string;
  /** Where browsers reach /authorize when that differs from the issuer (compose: localhost). */
  browserUrl?: string;
}

export async function startMockIdp(
  port: number,
  host = "127.0.0.1",
  opts: MockIdpOptions = {},
): Promise<MockIdp> {
  const server = new OAuth2Server();
  await server.issuer.keys.generate("RS256");
  const hints = new Map<string, string>(); // authorization code → login_hint
  let idTokenPatch: Record<string, unknown> | null = null;

  server.service.on(Events.BeforeAuthorizeRedirect, (redirect, req) => {
    const query = new URL(req.url ?? "/", "http://idp").searchParams;
    const code = redirect.url.searchParams.get("code");
    const hint = query.get("login_hint") ?? "demo";
    if (!code) return;
    if (!HINT.test(hint)) {
      redirect.url.searchParams.delete("code");
      redirect.url.searchParams.set("error", "invalid_request");
      redirect.url.searchParams.set("error_description", "login_hint must be 1-64 of A-Z a-z 0-9 . _ -");
      return;
    }
    hints.set(code, hint);
    // Codes nobody redeems must not pile up.
    setTimeout(() => hints.delete(code), 10 * 60_000).unref?.();
  });

  server.service.on(Events.BeforeTokenSigning, (token, req) => {
    const code = (req.body as Record<string, unknown> | undefined)?.code;
    const hint = typeof code === "string" ? hints.get(code) : undefined;
    if (!hint) return;
    token.payload.sub = hint;
    token.payload.email = `${hint.toLowerCase()}@example.test`;
    token.payload.email_verified = true;
    token.payload.name = hint.charAt(0).toUpperCase() + hint.slice(1);
    token.payload.preferred_username = hint;
    // The ID token is the one carrying `aud` (the access token of this grant has none).
    if (idTokenPatch && "aud" in token.payload) {
      Object.assign(token.payload, idTokenPatch);
      idTokenPatch = null;
    }
  });

  server.service.on(Events.BeforeResponse, (_res, req) => {
    const code = (req.body as Record<string, unknown> | undefined)?.code;
    if (typeof code === "string") hints.delete(code);
  });

  if (opts.browserUrl) {
    const browser = opts.browserUrl.replace(/\/$/, "");
    server.service.on(Events.BeforeWellKnownOpenIdConfiguration, (doc) => {
      (doc.body as Record<string, unknown>).authorization_endpoint = `${browser}/authorize`;
    });
  }
  await server.start(port, host);
  if (opts.issuer) server.issuer.url = opts.issuer.replace(/\/$/, "");
  return {
    issuer: server.issuer.url!,
    stop: () => server.stop(),
    tamperNextIdToken(claims) {
      idTokenPatch = claims;
    },
    failNextToken(error, o = {}) {
      server.service.once(Events.BeforeResponse, (res) => {
        res.body = { error, error_description: o.description ?? `mock provider refused: ${error}` };
        res.statusCode = o.status ?? 400;
      });
    },
  };
}
