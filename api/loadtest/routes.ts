import { createHash, timingSafeEqual } from "node:crypto";
import { Elysia, t } from "elysia";
import { AppError } from "../../core/errors.ts";
import { signAccessToken } from "../../core/tokens.ts";
import { seededUserIds } from "../../db/users.ts";
import type { Deps } from "../deps.ts";
import { Id, NoQuery, problems } from "../schemas.ts";

// The load-test signer: access tokens for users the seeder flagged (users.seeded), so k6 and
// perf/load.ts can act as thousands of users without signing each one in through SSO. createApp
// registers it only when LOAD_TEST_SECRET is set (production refuses it); whoever holds the secret can act as any seeded
// user, so a real deployment never sets it.

const MAX_TOKENS = 1000;

/**
 * Compares digests, not the strings: timingSafeEqual needs equal lengths, and comparing
 * fixed-size hashes keeps both the content and the length of the secret out of the timing.
 */
export function secretMatches(given: string | undefined, secret: string): boolean {
  if (given === undefined) return false;
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(given), digest(secret));
}

const TokensSchema = t.Object({
  tokens: t.Array(t.Object({ user_id: Id, token: t.String() })),
  expires_in: t.Integer({ description: "lifetime of every token, in seconds" }),
});

export const loadTestRoutes = (deps: Deps, secret: string) =>
  new Elysia()
    // derive runs before validation: a caller without the secret gets 401 and learns nothing
    // about the body rules.
    .derive(({ headers }) => {
      if (!secretMatches(headers["x-load-test-secret"], secret)) {
        throw new AppError("unauthorized", "missing or wrong x-load-test-secret header", {
          headers: { "www-authenticate": 'LoadTestSecret realm="feed-loadtest"' },
        });
      }
      return {};
    })
    .post(
      "/loadtest/tokens",
      async ({ body }) => {
        const ids = await seededUserIds(deps.sql, body.count, body.offset ?? 0);
        const ttl = deps.config.ACCESS_TOKEN_TTL_SECONDS;
        const tokens = await Promise.all(
          ids.map(async (id) => ({
            user_id: id,
            token: (await signAccessToken(deps.config, id, ttl)).token,
          })),
        );
        return { tokens, expires_in: ttl };
      },
      {
        headers: t.Object({ "x-load-test-secret": t.Optional(t.String({ maxLength: 1024 })) }),
        body: t.Object(
          {
            count: t.Integer({ minimum: 1, maximum: MAX_TOKENS, description: `1–${MAX_TOKENS} tokens` }),
            offset: t.Optional(
              t.Integer({
                minimum: 0,
                maximum: 10_000_000,
                description: "seeded users to skip, in id order",
              }),
            ),
          },
          { additionalProperties: false },
        ),
        query: NoQuery,
        response: { 200: TokensSchema, ...problems(400, 401, 415) },
        detail: {
          summary: "Load tests only: access tokens for seeded users (needs x-load-test-secret)",
          description:
            "Registered only when LOAD_TEST_SECRET is set. Answers fewer tokens than asked when fewer users made by the seeder exist past the offset.",
          tags: ["loadtest"],
        },
      },
    );
