import { createHash, timingSafeEqual } from "node:crypto";
import { AppError } from "../../core/errors.ts";
import { signAccessToken } from "../../core/tokens.ts";
import { seededUserIds } from "../../db/users.ts";
import type { Deps } from "../deps.ts";

/**
 * Compares digests, not the strings: timingSafeEqual needs equal lengths, and comparing
 * fixed-size hashes keeps both the content and the length of the secret out of the timing.
 */
export function secretMatches(given: string | undefined, secret: string): boolean {
  if (given === undefined) return false;
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(given), digest(secret));
}

/** The load-test secret's check, before validation: without it, 401 and nothing about the body. */
export function checkSecret(given: string | undefined, secret: string): void {
  if (!secretMatches(given, secret)) {
    throw new AppError("unauthorized", "missing or wrong x-load-test-secret header", {
      headers: { "www-authenticate": 'LoadTestSecret realm="feed-loadtest"' },
    });
  }
}

/** POST /loadtest/tokens: access tokens for `count` seeded users in id order from `offset`. */
export async function issueTokens(deps: Deps, count: number, offset: number) {
  const ids = await seededUserIds(deps.sql, count, offset);
  const ttl = deps.config.ACCESS_TOKEN_TTL_SECONDS;
  const tokens = await Promise.all(
    ids.map(async (id) => ({
      user_id: id,
      token: (await signAccessToken(deps.config, id, ttl)).token,
    })),
  );
  return { tokens, expires_in: ttl };
}
