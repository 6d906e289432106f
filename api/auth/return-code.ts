import { createHash, randomBytes } from "node:crypto";
import { AppError } from "../../core/errors.ts";
import { keys } from "../../core/redis-keys.ts";
import type { Deps } from "../deps.ts";

// Sign-in that returns to an app: the callback hands the app a one-time code in the redirect
// (never the tokens, which would sit in its history and logs), and the app exchanges it for the
// token pair with POST /auth/exchange. The code is random, lives CODE_TTL_SECONDS, is spent by
// its first exchange (GETDEL) and is bound to the return_to it was issued for. Redis keeps only
// its hash and the user it signs in.

export const CODE_TTL_SECONDS = 60;

const hashOf = (code: string) => createHash("sha256").update(code).digest("hex");

/** return_to as allowed: exactly one of AUTH_RETURN_URLS, else a 400 before any redirect. */
export function checkReturnTo(deps: Pick<Deps, "config">, returnTo: string): string {
  if (!deps.config.AUTH_RETURN_URLS.includes(returnTo))
    throw new AppError(
      "return_to_invalid",
      "return_to must be exactly one of the app URLs this service is configured with (AUTH_RETURN_URLS)",
    );
  return returnTo;
}

/** A new code for `userId`, and the URL to send the browser to: return_to with ?code=. */
export async function issueCode(deps: Pick<Deps, "redis">, userId: string, returnTo: string): Promise<URL> {
  const code = randomBytes(32).toString("base64url");
  await deps.redis.set(
    keys.authCode(hashOf(code)),
    JSON.stringify({ user_id: userId, return_to: returnTo }),
    "EX",
    CODE_TTL_SECONDS,
  );
  const url = new URL(returnTo);
  url.searchParams.set("code", code);
  return url;
}

/**
 * Spends a code: the user it signs in. Refused when unknown, expired, already spent, or when the
 * caller names (or its browser's Origin shows) another app than the one it was issued for.
 */
export async function spendCode(
  deps: Pick<Deps, "redis">,
  code: string,
  caller: { returnTo?: string; origin?: string },
): Promise<string> {
  const raw = await deps.redis.getdel(keys.authCode(hashOf(code)));
  const bad = (why: string) => new AppError("auth_code_invalid", why);
  if (!raw) throw bad("this sign-in code is unknown, expired or already used: sign in again");
  const { user_id, return_to } = JSON.parse(raw) as { user_id: string; return_to: string };
  const otherApp =
    (caller.returnTo !== undefined && caller.returnTo !== return_to) ||
    (caller.origin !== undefined && caller.origin !== new URL(return_to).origin);
  if (otherApp) throw bad("this sign-in code was issued for another app");
  return user_id;
}
