import { describe, expect, test } from "bun:test";
import { AppError } from "../../core/errors.ts";
import { parseIdempotencyKey } from "./run-command.ts";

describe("Idempotency-Key parsing", () => {
  test("accepts bare and structured-field (quoted) keys", () => {
    expect(parseIdempotencyKey("abc-123", true)).toBe("abc-123");
    expect(parseIdempotencyKey('"8e03978e-40d5-43e8-bc93-6894a57f9324"', true)).toBe(
      "8e03978e-40d5-43e8-bc93-6894a57f9324",
    );
  });

  test("missing: 400 where required, absent where optional", () => {
    expect(() => parseIdempotencyKey(undefined, true)).toThrow(AppError);
    try {
      parseIdempotencyKey("", true);
    } catch (e) {
      expect((e as AppError).code).toBe("idempotency_key_missing");
    }
    expect(parseIdempotencyKey(undefined, false)).toBeUndefined();
  });

  test("refuses spaces, control characters, non-ASCII and over-long keys", () => {
    for (const bad of ["a b", "tab\tkey", "ключ", "x".repeat(256), '""']) {
      try {
        parseIdempotencyKey(bad, false);
        throw new Error(`accepted ${bad}`);
      } catch (e) {
        expect((e as AppError).code).toBe("idempotency_key_invalid");
      }
    }
  });
});
