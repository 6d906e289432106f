import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { EncryptJWT, SignJWT } from "jose";
import { parseConfig } from "../../core/config.ts";
import { AppError } from "../../core/errors.ts";
import { type LoginState, openLoginState, sealLoginState } from "./login-state.ts";

const config = parseConfig({});
const state: LoginState = {
  provider: "github",
  state: "st-7Qx2mV9kLp3Rz8Nw4Hc6Jb1Tf5Yd0Gs",
  verifier: "pkce-verifier-Wm4kR8tq2XzN7vB3cL9pD6fH1sJ5yG0a",
  nonce: "nonce-E5rT1uI9oP3aS7dF2gH6jK0lZ4xC8vB",
};

/** The key login-state.ts derives from JWT_SECRET (a key of its own, not the signing secret). */
const derivedKey = (secret: string) =>
  new Uint8Array(createHash("sha256").update(`login-state\n${secret}`).digest());

async function refused(sealed: string | undefined, why: RegExp, cfg = config) {
  const err = await openLoginState(cfg, sealed).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  const e = err as AppError;
  expect(e.code).toBe("login_state_invalid");
  expect(e.status).toBe(400);
  expect(e.detail).toMatch(why);
  return e;
}

/** Replaces the character at i with one whose 6-bit value differs in the top bit (always significant). */
const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
function flip(s: string, i: number): string {
  const v = B64URL.indexOf(s[i]!);
  return s.slice(0, i) + B64URL[v ^ 0b100000] + s.slice(i + 1);
}

describe("login state cookie", () => {
  test("seal then open round-trips provider, state, verifier and nonce", async () => {
    const sealed = await sealLoginState(config, state);
    expect(await openLoginState(config, sealed)).toEqual(state);
  });

  test("it is a compact JWE (dir + A256GCM), not a JWS", async () => {
    const sealed = await sealLoginState(config, state);
    const parts = sealed.split(".");
    expect(parts).toHaveLength(5);
    expect(JSON.parse(Buffer.from(parts[0]!, "base64url").toString())).toEqual({
      alg: "dir",
      enc: "A256GCM",
    });
    expect(parts[1]).toBe("");
  });

  test("the verifier is not readable: neither in clear text nor base64url-decoded", async () => {
    const sealed = await sealLoginState(config, state);
    for (const secret of [state.verifier, state.state, state.nonce]) {
      expect(sealed).not.toContain(secret);
      expect(sealed).not.toContain(Buffer.from(secret).toString("base64url"));
      for (const part of sealed.split(".")) {
        expect(Buffer.from(part, "base64url").toString("latin1")).not.toContain(secret);
      }
    }
    // Two seals of the same state differ (fresh IV), so nothing can be matched across cookies.
    expect(await sealLoginState(config, state)).not.toBe(sealed);
  });

  test("tampering with any character is refused", async () => {
    const sealed = await sealLoginState(config, state);
    let tried = 0;
    for (let i = 0; i < sealed.length; i++) {
      if (sealed[i] === ".") continue;
      tried++;
      await refused(flip(sealed, i), /not valid|incomplete/);
    }
    expect(tried).toBeGreaterThan(100);
    // Truncated or extended is refused too.
    await refused(sealed.slice(0, -1), /not valid/);
    await refused(`${sealed}A`, /not valid/);
  });

  test("missing or empty cookie", async () => {
    await refused(undefined, /cookie is missing/);
    await refused("", /cookie is missing/);
  });

  test("a value sealed under another JWT_SECRET is refused", async () => {
    const other = parseConfig({ JWT_SECRET: "x".repeat(40) });
    const sealed = await sealLoginState(other, state);
    expect(await openLoginState(other, sealed)).toEqual(state);
    await refused(sealed, /not valid/);
    await refused(await sealLoginState(config, state), /not valid/, other);
  });

  test("an expired value is refused, naming the expiry", async () => {
    const now = Math.floor(Date.now() / 1000);
    const sealed = await new EncryptJWT({ ...state })
      .setProtectedHeader({ alg: "dir", enc: "A256GCM" })
      .setIssuedAt(now - 700)
      .setExpirationTime(now - 100)
      .encrypt(derivedKey(config.JWT_SECRET));
    await refused(sealed, /expired/);
  });

  test("the test's key derivation matches the module's (a fresh one built here opens)", async () => {
    const sealed = await new EncryptJWT({ ...state })
      .setProtectedHeader({ alg: "dir", enc: "A256GCM" })
      .setIssuedAt()
      .setExpirationTime("1m")
      .encrypt(derivedKey(config.JWT_SECRET));
    expect(await openLoginState(config, sealed)).toEqual(state);
  });

  test("no exp, or a missing field, is refused", async () => {
    const key = derivedKey(config.JWT_SECRET);
    const noExp = await new EncryptJWT({ ...state })
      .setProtectedHeader({ alg: "dir", enc: "A256GCM" })
      .encrypt(key);
    await refused(noExp, /not valid/);
    const { verifier: _, ...partial } = state;
    const incomplete = await new EncryptJWT(partial)
      .setProtectedHeader({ alg: "dir", enc: "A256GCM" })
      .setExpirationTime("1m")
      .encrypt(key);
    await refused(incomplete, /incomplete/);
  });

  test("the JWT_SECRET itself does not open it (the key is derived)", async () => {
    const sealed = await new EncryptJWT({ ...state })
      .setProtectedHeader({ alg: "dir", enc: "A256GCM" })
      .setExpirationTime("1m")
      .encrypt(createHash("sha256").update(config.JWT_SECRET).digest());
    await refused(sealed, /not valid/);
  });

  test("a plain signed JWT (not encrypted) is refused", async () => {
    for (const key of [new TextEncoder().encode(config.JWT_SECRET), derivedKey(config.JWT_SECRET)]) {
      const signed = await new SignJWT({ ...state })
        .setProtectedHeader({ alg: "HS256" })
        .setIssuedAt()
        .setExpirationTime("1m")
        .sign(key);
      await refused(signed, /not valid/);
    }
  });
});
