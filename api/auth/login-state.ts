import { createHash } from "node:crypto";
import { EncryptJWT, jwtDecrypt } from "jose";
import { type Config, perConfig } from "../../core/config.ts";
import { AppError } from "../../core/errors.ts";

// The login cookie: state, PKCE verifier and OIDC nonce, encrypted (JWE, dir + A256GCM) so the
// client can neither read the verifier nor forge any of it. It lives LOGIN_STATE_TTL_SECONDS;
// single use is enforced at the callback (the state is burnt in Redis).

export const LOGIN_COOKIE = "feed_login";

export interface LoginState {
  provider: string;
  state: string;
  verifier: string;
  nonce: string;
  /** The app to return to with a one-time code, when the sign-in was started with one. */
  returnTo?: string;
}

// A key of its own, derived from the signing secret: a sealed cookie is never a valid JWT.
const keyOf = perConfig(
  (config) => new Uint8Array(createHash("sha256").update(`login-state\n${config.JWT_SECRET}`).digest()),
);

export async function sealLoginState(config: Config, s: LoginState): Promise<string> {
  return new EncryptJWT({ ...s })
    .setProtectedHeader({ alg: "dir", enc: "A256GCM" })
    .setIssuedAt()
    .setExpirationTime(`${config.LOGIN_STATE_TTL_SECONDS}s`)
    .encrypt(keyOf(config));
}

const bad = (why: string) => new AppError("login_state_invalid", why);

export async function openLoginState(config: Config, sealed: string | undefined): Promise<LoginState> {
  if (!sealed)
    throw bad(
      "the sign-in cookie is missing: start again at /auth/{provider}/login (cookies must be enabled)",
    );
  try {
    const { payload } = await jwtDecrypt(sealed, keyOf(config), {
      keyManagementAlgorithms: ["dir"],
      contentEncryptionAlgorithms: ["A256GCM"],
      requiredClaims: ["exp"],
    });
    const { provider, state, verifier, nonce, returnTo } = payload as Partial<LoginState>;
    if (
      typeof provider !== "string" ||
      typeof state !== "string" ||
      typeof verifier !== "string" ||
      typeof nonce !== "string"
    ) {
      throw bad("the sign-in cookie is incomplete");
    }
    return { provider, state, verifier, nonce, ...(typeof returnTo === "string" ? { returnTo } : {}) };
  } catch (e) {
    if (e instanceof AppError) throw e;
    if ((e as { code?: string }).code === "ERR_JWT_EXPIRED")
      throw bad("the sign-in attempt expired: start again");
    throw bad("the sign-in cookie is not valid");
  }
}
