import { errors, jwtVerify, SignJWT } from "jose";
import { type Config, perConfig } from "./config.ts";

// Access tokens: HS256 JWTs with pinned algorithm, issuer, audience and a lifetime of at most
// 15 minutes. SSO (a later issue) issues them through signAccessToken; until then tests and
// the load-test signer mint them here, with the very same code the API verifies with.

const ALG = "HS256";
const TYP = "at+jwt";
const MAX_LIFETIME_S = 900;

export interface AccessClaims {
  sub: string;
  jti: string;
  iat: number;
  exp: number;
}

const keyOf = perConfig((config) => new TextEncoder().encode(config.JWT_SECRET));

export async function signAccessToken(
  config: Config,
  userId: string,
  ttlSeconds = config.ACCESS_TOKEN_TTL_SECONDS,
) {
  const ttl = Math.min(ttlSeconds, MAX_LIFETIME_S);
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: ALG, typ: TYP })
    .setSubject(userId)
    .setIssuer(config.JWT_ISSUER)
    .setAudience(config.JWT_AUDIENCE)
    .setJti(crypto.randomUUID())
    .setIssuedAt()
    .setExpirationTime(`${ttl}s`)
    .sign(keyOf(config));
  return { token, expiresIn: ttl };
}

export class TokenError extends Error {
  override name = "TokenError";
}

/**
 * A verifier that remembers the tokens it accepted until they expire. A client sends the same
 * access token on every request for up to 15 minutes, and parsing plus HMAC-checking it again
 * was a fifth of the api's CPU on a cached feed read. Only successes are remembered, keyed by
 * the whole token string, and never past `exp`; the oldest entries go first when full.
 */
export function createTokenVerifier(config: Config, maxEntries = 50_000) {
  const accepted = new Map<string, AccessClaims>();
  return async (token: string): Promise<AccessClaims> => {
    const hit = accepted.get(token);
    if (hit) {
      if (hit.exp * 1000 > Date.now()) return hit;
      accepted.delete(token);
    }
    const claims = await verifyAccessToken(config, token);
    if (accepted.size >= maxEntries) accepted.delete(accepted.keys().next().value as string);
    accepted.set(token, claims);
    return claims;
  };
}

/** Verifies an access token; throws TokenError with a reason a client can act on. */
export async function verifyAccessToken(config: Config, token: string): Promise<AccessClaims> {
  try {
    const { payload, protectedHeader } = await jwtVerify(token, keyOf(config), {
      algorithms: [ALG],
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      typ: TYP,
      requiredClaims: ["sub", "jti", "iat", "exp"],
      maxTokenAge: `${MAX_LIFETIME_S}s`,
    });
    void protectedHeader;
    const { sub, jti, iat, exp } = payload as AccessClaims;
    if (exp - iat > MAX_LIFETIME_S) throw new TokenError("token lifetime exceeds 15 minutes");
    if (!/^[1-9][0-9]{0,18}$/.test(sub)) throw new TokenError("token subject is not a user id");
    return { sub, jti, iat, exp };
  } catch (e) {
    if (e instanceof TokenError) throw e;
    if (e instanceof errors.JWTExpired) throw new TokenError("token expired");
    if (e instanceof errors.JWTClaimValidationFailed)
      throw new TokenError(`token claim "${e.claim}" is invalid`);
    if (e instanceof errors.JOSEAlgNotAllowed) throw new TokenError("token algorithm not allowed");
    if (e instanceof errors.JWSSignatureVerificationFailed)
      throw new TokenError("token signature is invalid");
    throw new TokenError("token is malformed");
  }
}
