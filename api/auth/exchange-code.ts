import { AppError } from "../../core/errors.ts";
import { findUser } from "../../db/users.ts";
import type { Deps } from "../deps.ts";
import { type CookieJar, deliver, type RefreshIn } from "./refresh-cookie.ts";
import { spendCode } from "./return-code.ts";
import { startSession } from "./session.ts";

/**
 * POST /auth/exchange: the token pair for a sign-in's one-time code (single use, 60 s, bound to
 * its return_to and the browser's Origin).
 */
export async function exchangeCode(
  deps: Deps,
  body: { code: string; return_to?: string; refresh?: RefreshIn },
  origin: string | undefined,
  cookie: CookieJar,
) {
  const userId = await spendCode(deps, body.code, { returnTo: body.return_to, origin });
  const user = await findUser(deps.sql, userId);
  if (!user) throw new AppError("auth_code_invalid", "the user of this sign-in code no longer exists");
  return deliver(deps, await startSession(deps, user), body.refresh, cookie);
}
