import { describe, expect, test } from "bun:test";
import { createLocalJWKSet, exportJWK, exportSPKI, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { AppError } from "../../core/errors.ts";
import { ID_TOKEN_REJECTED, verifyIdToken } from "./id-token.ts";

// verifyIdToken against a local JWKS: no network, the provider's keys are generated here.

const ISSUER = "https://idp.example.test";
const CLIENT_ID = "feed-client-123";
const NONCE = "n-3f9c1a7e5b2d4c6a8e0f1b3d5a7c9e1f";

const rsa = await generateKeyPair("RS256");
const ec = await generateKeyPair("ES256");
// Another RSA key published nowhere, but claiming the provider's kid.
const impostor = await generateKeyPair("RS256");

const jwks = createLocalJWKSet({
  keys: [
    { ...(await exportJWK(rsa.publicKey)), kid: "rsa-1", alg: "RS256", use: "sig" },
    { ...(await exportJWK(ec.publicKey)), kid: "ec-1", alg: "ES256", use: "sig" },
  ],
});

const now = () => Math.floor(Date.now() / 1000);
const claims = (over: Record<string, unknown> = {}): JWTPayload => ({
  iss: ISSUER,
  aud: CLIENT_ID,
  sub: "248289761001",
  nonce: NONCE,
  iat: now(),
  exp: now() + 300,
  email: "jane@example.com",
  email_verified: true,
  name: "Jane Doe",
  ...over,
});

/** Signs claims; a claim set to undefined is left out of the token. */
function sign(
  payload: JWTPayload = claims(),
  o: { alg?: string; kid?: string; key?: CryptoKey | Uint8Array } = {},
): Promise<string> {
  const clean = Object.fromEntries(Object.entries(payload).filter(([, v]) => v !== undefined));
  return new SignJWT(clean)
    .setProtectedHeader({ alg: o.alg ?? "RS256", kid: o.kid ?? "rsa-1", typ: "JWT" })
    .sign(o.key ?? rsa.privateKey);
}

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

const verify = (token: string, o: { algorithms?: string[] } = {}) =>
  verifyIdToken(token, { jwks, issuer: ISSUER, clientId: CLIENT_ID, nonce: NONCE, ...o });

/** Expects a rejection with id_token_invalid whose log-only reason matches `why`; the client's detail names no check. */
async function rejects(token: string, why: RegExp, o: { algorithms?: string[] } = {}) {
  const err = await verify(token, o).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  const e = err as AppError;
  expect(e.code).toBe("id_token_invalid");
  expect(e.status).toBe(401);
  expect(e.extra.internal?.reason).toMatch(why);
  expect(e.detail).toBe(ID_TOKEN_REJECTED);
  return e;
}

describe("verifyIdToken", () => {
  test("a valid RS256 token with the right iss, aud and nonce passes and returns its claims", async () => {
    const c = await verify(await sign());
    expect(c.sub).toBe("248289761001");
    expect(c.email).toBe("jane@example.com");
    expect(c.email_verified).toBe(true);
    expect(c.name).toBe("Jane Doe");
  });

  test("an audience array that includes our client id passes", async () => {
    const c = await verify(await sign(claims({ aud: ["other-client", CLIENT_ID] })));
    expect(c.sub).toBe("248289761001");
  });

  test("ES256 passes when allowed (the default list), and is refused when not in the list", async () => {
    const token = await sign(claims(), { alg: "ES256", kid: "ec-1", key: ec.privateKey });
    expect((await verify(token)).sub).toBe("248289761001");
    expect((await verify(token, { algorithms: ["ES256"] })).sub).toBe("248289761001");
    await rejects(token, /algorithm/, { algorithms: ["RS256"] });
  });

  test("expiry within the 30 s clock tolerance still passes", async () => {
    const c = await verify(await sign(claims({ iat: now() - 600, exp: now() - 10 })));
    expect(c.sub).toBe("248289761001");
  });

  test("wrong signature: signed by another key under the same kid", async () => {
    await rejects(await sign(claims(), { key: impostor.privateKey }), /signature/);
  });

  test("wrong signature: payload altered after signing", async () => {
    const [h, , s] = (await sign()).split(".");
    await rejects(`${h}.${b64url(claims({ sub: "1" }))}.${s}`, /signature/);
  });

  test('alg "none": an unsigned token is refused', async () => {
    const payload = b64url(claims());
    await rejects(`${b64url({ alg: "none" })}.${payload}.`, /algorithm/);
    await rejects(`${b64url({ alg: "none", typ: "JWT", kid: "rsa-1" })}.${payload}.`, /algorithm/);
  });

  test("HS256 is refused whatever the secret, including the provider's public key bytes", async () => {
    const pem = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
    await rejects(await sign(claims(), { alg: "HS256", key: pem }), /algorithm/);
    const jwkN = new TextEncoder().encode(JSON.stringify(await exportJWK(rsa.publicKey)));
    await rejects(await sign(claims(), { alg: "HS256", key: jwkN }), /algorithm/);
    await rejects(
      await sign(claims(), { alg: "HS256", key: new TextEncoder().encode("s".repeat(32)) }),
      /algorithm/,
    );
  });

  test("wrong aud", async () => {
    await rejects(await sign(claims({ aud: "someone-else" })), /aud/);
    await rejects(await sign(claims({ aud: undefined })), /aud/);
  });

  test("wrong iss", async () => {
    await rejects(await sign(claims({ iss: "https://evil.example.test" })), /iss/);
    await rejects(await sign(claims({ iss: `${ISSUER}/` })), /iss/);
    await rejects(await sign(claims({ iss: undefined })), /iss/);
  });

  test("wrong nonce", async () => {
    await rejects(await sign(claims({ nonce: "n-another-sign-in" })), /nonce/);
  });

  test("missing nonce", async () => {
    await rejects(await sign(claims({ nonce: undefined })), /nonce/);
  });

  test("expired beyond the 30 s tolerance", async () => {
    await rejects(await sign(claims({ iat: now() - 3600, exp: now() - 60 })), /expired/);
  });

  test("missing, empty or oversized sub", async () => {
    await rejects(await sign(claims({ sub: undefined })), /sub/);
    await rejects(await sign(claims({ sub: "" })), /sub/);
    await rejects(await sign(claims({ sub: "9".repeat(256) })), /sub/);
  });

  test("missing exp or iat", async () => {
    await rejects(await sign(claims({ exp: undefined })), /exp/);
    await rejects(await sign(claims({ iat: undefined })), /iat/);
  });

  test("a kid the JWKS does not have", async () => {
    await rejects(await sign(claims(), { kid: "rotated-away" }), /key/);
    await rejects(await sign(claims(), { kid: "rotated-away", key: impostor.privateKey }), /key/);
  });

  test("malformed strings", async () => {
    const valid = await sign();
    const [h, p] = valid.split(".");
    for (const junk of [
      "",
      "not-a-jwt",
      "a.b.c",
      "a.b",
      "....",
      `${valid}.extra`,
      `{"alg":"RS256"}.{}.sig`,
      `${h}.${p}.@@not base64url@@`,
      `${b64url({ alg: 256, kid: "rsa-1" })}.${p}.${valid.split(".")[2]}`,
    ]) {
      // A garbage string is "malformed" for the caller, never a provider outage.
      await rejects(junk, /malformed/);
    }
  });
});
