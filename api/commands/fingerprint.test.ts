import { describe, expect, test } from "bun:test";
import { fingerprint } from "./fingerprint.ts";

describe("idempotency fingerprint", () => {
  test("ignores key order and undefined fields", () => {
    expect(fingerprint("POST", "POST /posts", { a: 1, b: { c: 2, d: [1, 2] } })).toBe(
      fingerprint("POST", "POST /posts", { b: { d: [1, 2], c: 2 }, a: 1, z: undefined }),
    );
  });

  test("changes with any value, the route or the method", () => {
    const base = fingerprint("POST", "POST /posts", { text: "hi" });
    expect(fingerprint("POST", "POST /posts", { text: "hi " })).not.toBe(base);
    expect(fingerprint("POST", "POST /likes", { text: "hi" })).not.toBe(base);
    expect(fingerprint("PUT", "POST /posts", { text: "hi" })).not.toBe(base);
    expect(fingerprint("POST", "POST /posts", { text: ["hi"] })).not.toBe(base);
    expect(fingerprint("POST", "POST /posts", null)).not.toBe(fingerprint("POST", "POST /posts", {}));
  });
});
