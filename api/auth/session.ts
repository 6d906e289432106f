import { createHash, randomBytes } from "node:crypto";
import type { CachedUser } from "../../core/cache.ts";
import { AppError } from "../../core/errors.ts";
import { signAccessToken } from "../../core/tokens.ts";
import {
  findRefreshToken,
  insertRefreshToken,
  revokeFamily,
  spendRefreshToken,
} from "../../db/refresh-tokens.ts";
import { findUser } from "../../db/users.ts";
import type { Deps } from "../deps.ts";
import { mediaUrls, presentUser, userMediaKeys, type WireUser } from "../hydrate/present.ts";

// Sessions: a short-lived access JWT plus an opaque refresh token (256 random bits) that
// rotates on every use. A family is one sign-in; presenting a spent token revokes the family.

export interface TokenPair {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  refresh_token: string;
  user: WireUser;
}

const PREFIX = "rt_";
export const REFRESH_TOKEN_PATTERN = "^rt_[A-Za-z0-9_-]{43}$";

export const hashRefreshToken = (token: string) =>
  new Uint8Array(createHash("sha256").update(token).digest());
const newRefreshToken = () => `${PREFIX}${randomBytes(32).toString("base64url")}`;

async function pair(deps: Deps, user: CachedUser, refresh: string): Promise<TokenPair> {
  const { token, expiresIn } = await signAccessToken(deps.config, user.id);
  return {
    access_token: token,
    token_type: "Bearer",
    expires_in: expiresIn,
    refresh_token: refresh,
    user: presentUser(user, await mediaUrls(deps, userMediaKeys(user))),
  };
}

/** A new session (a new family) for a user who just signed in. */
export async function startSession(deps: Deps, user: CachedUser) {
  const refresh = newRefreshToken();
  const absolute = new Date(Date.now() + deps.config.REFRESH_ABSOLUTE_DAYS * 86_400_000);
  await insertRefreshToken(deps.sql, {
    hash: hashRefreshToken(refresh),
    userId: user.id,
    familyId: crypto.randomUUID(),
    parentId: null,
    idleDays: deps.config.REFRESH_IDLE_DAYS,
    absoluteExpiresAt: absolute,
  });
  return pair(deps, user, refresh);
}

/** Rotates a refresh token: the old one is spent and its child issued in one transaction. */
export async function refreshSession(deps: Deps, token: string): Promise<TokenPair> {
  const hash = hashRefreshToken(token);
  const rotated = await deps.sql.begin(async (tx) => {
    const spent = await spendRefreshToken(tx, hash);
    if (!spent) return null;
    const child = newRefreshToken();
    await insertRefreshToken(tx, {
      hash: hashRefreshToken(child),
      userId: spent.user_id,
      familyId: spent.family_id,
      parentId: spent.id,
      idleDays: deps.config.REFRESH_IDLE_DAYS,
      absoluteExpiresAt: spent.absolute_expires_at,
    });
    return { child, userId: spent.user_id };
  });
  if (!rotated) {
    const row = await findRefreshToken(deps.sql, hash);
    if (row?.used_at && !row.revoked_at) {
      // A spent token came back: it was stolen, or the client raced itself. Either way no branch
      // of this family may live on.
      await revokeFamily(deps.sql, row.family_id);
      throw new AppError(
        "refresh_token_reused",
        "this refresh token was already used; every token of its session is now revoked: sign in again",
      );
    }
    if (row?.revoked_at)
      throw new AppError("refresh_token_invalid", "this session was revoked: sign in again");
    if (row) throw new AppError("refresh_token_invalid", "this refresh token expired: sign in again");
    throw new AppError("refresh_token_invalid", "unknown refresh token");
  }
  const user = await findUser(deps.sql, rotated.userId);
  if (!user) throw new AppError("refresh_token_invalid", "the session's user no longer exists");
  return pair(deps, user, rotated.child);
}

/** Logout: the whole family goes. Unknown tokens are refused so a client learns its mistake. */
export async function endSession(deps: Deps, token: string): Promise<void> {
  const row = await findRefreshToken(deps.sql, hashRefreshToken(token));
  if (!row) throw new AppError("refresh_token_invalid", "unknown refresh token");
  await revokeFamily(deps.sql, row.family_id);
}
