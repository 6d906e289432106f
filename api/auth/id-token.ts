import { errors, type JWTVerifyGetKey, jwtVerify } from "jose";
import { AppError } from "../../core/errors.ts";

// ID tokens are verified here, never just decoded (arctic's decodeIdToken checks nothing):
// signature against the provider's JWKS with pinned asymmetric algorithms, issuer, audience =
// our client id, expiry, and the nonce we sent.

export const ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"];

/** What the client is told of any failed ID-token check. */
export const ID_TOKEN_REJECTED = "the identity provider's ID token was rejected; sign in again";

export interface IdClaims {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  preferred_username?: string;
  given_name?: string;
}

export async function verifyIdToken(
  token: string,
  o: { jwks: JWTVerifyGetKey; issuer: string; clientId: string; nonce: string; algorithms?: string[] },
): Promise<IdClaims> {
  // Why it failed is logged, not answered: it would tell a forger which check to work on next.
  const fail = (why: string) =>
    new AppError("id_token_invalid", ID_TOKEN_REJECTED, { internal: { reason: why } });
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, o.jwks, {
      algorithms: o.algorithms ?? ID_TOKEN_ALGORITHMS,
      issuer: o.issuer,
      audience: o.clientId,
      requiredClaims: ["sub", "exp", "iat"],
      clockTolerance: 30,
    }));
  } catch (e) {
    if (e instanceof errors.JWTExpired) throw fail("expired");
    if (e instanceof errors.JWTClaimValidationFailed) throw fail(`claim "${e.claim}" is invalid`);
    if (e instanceof errors.JOSEAlgNotAllowed) throw fail("signing algorithm not allowed");
    if (e instanceof errors.JWSSignatureVerificationFailed) throw fail("signature does not verify");
    if (e instanceof errors.JWKSNoMatchingKey) throw fail("signed by a key the provider does not publish");
    if (e instanceof errors.JWKSTimeout || !(e instanceof errors.JOSEError)) {
      throw new AppError("provider_unavailable", "the identity provider could not be reached", {
        internal: { reason: "could not fetch the provider's signing keys", error: String(e) },
      });
    }
    throw fail("malformed");
  }
  if (payload.nonce !== o.nonce) throw fail('claim "nonce" does not match this sign-in');
  if (typeof payload.sub !== "string" || payload.sub.length === 0 || payload.sub.length > 255)
    throw fail('claim "sub" is invalid');
  return payload as unknown as IdClaims;
}
