import { Elysia, t } from "elysia";
import type { Deps } from "../deps.ts";
import { Id, NoQuery, problems } from "../schemas.ts";
import { checkSecret, issueTokens } from "./issue-tokens.ts";

// The load-test signer: access tokens for users the seeder flagged (users.seeded), so k6 and
// perf/load.ts can act as thousands of users without signing each one in through SSO. createApp
// registers it only when LOAD_TEST_SECRET is set (production refuses it); whoever holds the
// secret can act as any seeded user, so a real deployment never sets it.

const MAX_TOKENS = 1000;

const TokensSchema = t.Object({
  tokens: t.Array(t.Object({ user_id: Id, token: t.String() })),
  expires_in: t.Integer({ description: "lifetime of every token, in seconds" }),
});

export const loadTestRoutes = (deps: Deps, secret: string) =>
  new Elysia()
    // derive runs before validation: a caller without the secret gets 401 and learns nothing
    // about the body rules.
    .derive(({ headers }) => {
      checkSecret(headers["x-load-test-secret"], secret);
      return {};
    })
    .post("/loadtest/tokens", ({ body }) => issueTokens(deps, body.count, body.offset ?? 0), {
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
    });
