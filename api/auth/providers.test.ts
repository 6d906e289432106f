import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { OAuth2Tokens } from "arctic";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { parseConfig } from "../../core/config.ts";
import { AppError } from "../../core/errors.ts";
import githubEmails from "./fixtures/github-emails.json";
import githubUser from "./fixtures/github-user.json";
import { enabledProviders, GITHUB, githubProvider, googleProvider, OidcDiscovery } from "./providers.ts";

// GitHub and Google cannot be reached from here, so a local HTTP server stands in for their
// API, discovery and JWKS endpoints with recorded responses; requests to the real hosts are
// rewritten to it. What this proves: the URLs we send people to, and what we make of the answers.

let server: ReturnType<typeof Bun.serve>;
let fetches: string[] = [];
let googleKey: CryptoKey;
const GOOGLE_CLIENT = "123-abc.apps.googleusercontent.com";

beforeAll(async () => {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  googleKey = privateKey;
  const jwk = { ...(await exportJWK(publicKey)), kid: "g1", alg: "RS256", use: "sig" };
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/user")
        return req.headers.get("authorization") === "Bearer gh-token"
          ? Response.json(githubUser)
          : new Response("", { status: 401 });
      if (path === "/user/emails") return Response.json(githubEmails);
      if (path === "/google/.well-known/openid-configuration") {
        return Response.json({
          issuer: "https://accounts.google.com",
          authorization_endpoint: "https://accounts.google.com/o/oauth2/v2/auth",
          token_endpoint: "https://oauth2.googleapis.com/token",
          jwks_uri: `http://127.0.0.1:${server.port}/google/certs`,
        });
      }
      if (path === "/google/certs") return Response.json({ keys: [jwk] });
      if (path === "/liar/.well-known/openid-configuration")
        return Response.json({ issuer: "https://someone-else" });
      return new Response("not found", { status: 404 });
    },
  });
});
afterAll(() => {
  server.stop(true);
});

/** Sends requests for GitHub's API and Google's discovery to the local stand-in. */
const localFetch = (async (input: string | URL | Request, init?: RequestInit) => {
  const url = String(input)
    .replace(GITHUB.api, `http://127.0.0.1:${server.port}`)
    .replace("https://accounts.google.com/", `http://127.0.0.1:${server.port}/google/`);
  fetches.push(url);
  return fetch(url, init);
}) as typeof fetch;

const input = {
  state: "st".repeat(20),
  verifier: "v".repeat(43),
  nonce: "n".repeat(40),
  loginHint: "octocat",
};

describe("github", () => {
  const gh = () =>
    githubProvider("gh-client", "gh-secret", "http://localhost:3000/auth/github/callback", localFetch);

  test("sends people to GitHub with state, S256 PKCE, scopes and the login hint", async () => {
    const url = await gh().authorizationURL(input);
    expect(`${url.origin}${url.pathname}`).toBe(GITHUB.authorize);
    expect(url.searchParams.get("client_id")).toBe("gh-client");
    expect(url.searchParams.get("redirect_uri")).toBe("http://localhost:3000/auth/github/callback");
    expect(url.searchParams.get("state")).toBe(input.state);
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get("scope")).toBe("read:user user:email");
    expect(url.searchParams.get("login")).toBe("octocat");
  });

  test("maps the recorded /user and /user/emails answers to a profile", async () => {
    const profile = await gh().profile(
      new OAuth2Tokens({ access_token: "gh-token", token_type: "bearer" }),
      "",
    );
    expect(profile).toEqual({
      subject: String(githubUser.id),
      email: "jose.muller@example.com",
      name: githubUser.name,
      username: githubUser.login,
    });
  });

  test("an API error is a provider error; an unreachable API is a 502", async () => {
    await expect(
      gh().profile(new OAuth2Tokens({ access_token: "wrong", token_type: "bearer" }), ""),
    ).rejects.toMatchObject({ code: "provider_error" });
    const down = githubProvider("a", "b", "http://x/cb", (async () => {
      throw new TypeError("connect ECONNREFUSED");
    }) as unknown as typeof fetch);
    await expect(
      down.profile(new OAuth2Tokens({ access_token: "t", token_type: "bearer" }), ""),
    ).rejects.toMatchObject({ code: "provider_unavailable" });
  });
});

describe("google", () => {
  const google = () =>
    googleProvider(GOOGLE_CLIENT, "g-secret", "http://localhost:3000/auth/google/callback", localFetch);

  test("sends people to Google with state, S256 PKCE, openid scopes, nonce and login_hint", async () => {
    const url = await google().authorizationURL(input);
    expect(url.host).toBe("accounts.google.com");
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("scope")).toBe("openid profile email");
    expect(url.searchParams.get("nonce")).toBe(input.nonce);
    expect(url.searchParams.get("login_hint")).toBe("octocat");
  });

  test("verifies Google's ID token against its published keys and maps the claims", async () => {
    const now = Math.floor(Date.now() / 1000);
    const idToken = await new SignJWT({
      email: "Ana@Example.com",
      email_verified: true,
      name: "Ana",
      nonce: input.nonce,
    })
      .setProtectedHeader({ alg: "RS256", kid: "g1" })
      .setIssuer("https://accounts.google.com")
      .setAudience(GOOGLE_CLIENT)
      .setSubject("109876543210987654321")
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(googleKey);
    const tokens = new OAuth2Tokens({ access_token: "x", token_type: "Bearer", id_token: idToken });
    expect(await google().profile(tokens, input.nonce)).toEqual({
      subject: "109876543210987654321",
      email: "ana@example.com",
      name: "Ana",
      username: null,
    });
    await expect(google().profile(tokens, "another-nonce")).rejects.toMatchObject({
      code: "id_token_invalid",
    });
    await expect(
      google().profile(new OAuth2Tokens({ access_token: "x", token_type: "Bearer" }), input.nonce),
    ).rejects.toMatchObject({
      code: "id_token_invalid",
    });
  });
});

describe("OpenID discovery", () => {
  test("is cached, and refuses a document that names another issuer", async () => {
    fetches = [];
    const d = new OidcDiscovery("https://accounts.google.com", localFetch);
    await d.get();
    await d.get();
    await d.jwks();
    expect(fetches.filter((f) => f.endsWith("openid-configuration"))).toHaveLength(1);
    const liar = new OidcDiscovery(`http://127.0.0.1:${server.port}/liar`);
    await expect(liar.get()).rejects.toMatchObject({ code: "provider_unavailable" });
    const missing = new OidcDiscovery(`http://127.0.0.1:${server.port}/nothing-here`);
    await expect(missing.get()).rejects.toBeInstanceOf(AppError);
    const down = new OidcDiscovery("http://127.0.0.1:1");
    await expect(down.get()).rejects.toMatchObject({ code: "provider_unavailable" });
  });
});

describe("enabled providers", () => {
  test("a provider is enabled by its credentials, and only then", () => {
    expect([...enabledProviders(parseConfig({})).keys()]).toEqual([]);
    const all = parseConfig({
      GITHUB_CLIENT_ID: "a",
      GITHUB_CLIENT_SECRET: "b",
      GOOGLE_CLIENT_ID: "c",
      GOOGLE_CLIENT_SECRET: "d",
      OIDC_ISSUER: "http://localhost:9400",
      OIDC_CLIENT_ID: "e",
    });
    expect([...enabledProviders(all).keys()]).toEqual(["github", "google", "oidc"]);
    expect([...enabledProviders(parseConfig({ GITHUB_CLIENT_ID: "only-half" })).keys()]).toEqual([]);
  });
});
