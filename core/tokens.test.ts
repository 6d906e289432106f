import { describe, expect, test } from "bun:test";
import { SignJWT } from "jose";
import { parseConfig } from "./config.ts";
import { createTokenVerifier, signAccessToken, TokenError, verifyAccessToken } from "./tokens.ts";

const config = parseConfig({ JWT_SECRET: "a-test-secret-that-is-long-enough-0123456789" });
const key = new TextEncoder().encode(config.JWT_SECRET);
const base = () =>
  new SignJWT({})
    .setSubject("7312950014423042")
    .setIssuer(config.JWT_ISSUER)
    .setAudience(config.JWT_AUDIENCE)
    .setJti("j")
    .setIssuedAt();

async function rejects(token: string, why: RegExp) {
  const err = await verifyAccessToken(config, token).then(
    () => null,
    (e) => e,
  );
  expect(err).toBeInstanceOf(TokenError);
  expect(String(err.message)).toMatch(why);
}

describe("access tokens", () => {
  test("a signed token verifies and names its user", async () => {
    const { token, expiresIn } = await signAccessToken(config, "7312950014423042");
    expect(expiresIn).toBeLessThanOrEqual(900);
    const claims = await verifyAccessToken(config, token);
    expect(claims.sub).toBe("7312950014423042");
    expect(claims.exp - claims.iat).toBe(expiresIn);
  });

  test("lifetime is capped at 15 minutes", async () => {
    const { expiresIn } = await signAccessToken(config, "1", 3600);
    expect(expiresIn).toBe(900);
  });

  test("rejects another issuer, audience, type, algorithm, key, expiry, or a long lifetime", async () => {
    await rejects(
      await base()
        .setProtectedHeader({ alg: "HS256", typ: "at+jwt" })
        .setIssuer("https://evil")
        .setExpirationTime("5m")
        .sign(key),
      /iss/,
    );
    await rejects(
      await base()
        .setProtectedHeader({ alg: "HS256", typ: "at+jwt" })
        .setAudience("other")
        .setExpirationTime("5m")
        .sign(key),
      /aud/,
    );
    await rejects(
      await base().setProtectedHeader({ alg: "HS256", typ: "JWT" }).setExpirationTime("5m").sign(key),
      /typ/,
    );
    await rejects(
      await base().setProtectedHeader({ alg: "HS512", typ: "at+jwt" }).setExpirationTime("5m").sign(key),
      /algorithm/,
    );
    await rejects(
      await base()
        .setProtectedHeader({ alg: "HS256", typ: "at+jwt" })
        .setExpirationTime("5m")
        .sign(new TextEncoder().encode("x".repeat(40))),
      /signature/,
    );
    await rejects(
      await base()
        .setProtectedHeader({ alg: "HS256", typ: "at+jwt" })
        .setIssuedAt(Math.floor(Date.now() / 1000) - 1000)
        .setExpirationTime(Math.floor(Date.now() / 1000) - 10)
        .sign(key),
      /expired|iat/,
    );
    await rejects(
      await base().setProtectedHeader({ alg: "HS256", typ: "at+jwt" }).setExpirationTime("2h").sign(key),
      /15 minutes/,
    );
    await rejects("not.a.jwt", /malformed/);
    // An unsigned token ("alg: none") is never accepted.
    const none = `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString("base64url")}.${Buffer.from(JSON.stringify({ sub: "1", iss: config.JWT_ISSUER, aud: config.JWT_AUDIENCE })).toString("base64url")}.`;
    await rejects(none, /algorithm|malformed/);
  });

  test("rejects a token whose subject is not a user id", async () => {
    const t = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256", typ: "at+jwt" })
      .setSubject("admin")
      .setIssuer(config.JWT_ISSUER)
      .setAudience(config.JWT_AUDIENCE)
      .setJti("j")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(key);
    await rejects(t, /subject/);
  });
});

describe("the remembering verifier", () => {
  test("accepts a good token again without re-verifying, and never a bad one", async () => {
    const verify = createTokenVerifier(config, 2);
    const a = (await signAccessToken(config, "11")).token;
    const b = (await signAccessToken(config, "12")).token;
    const c = (await signAccessToken(config, "13")).token;
    expect((await verify(a)).sub).toBe("11");
    expect((await verify(a)).sub).toBe("11");
    await verify(b);
    await verify(c); // evicts a; a verifies again from scratch
    expect((await verify(a)).sub).toBe("11");
    const tampered = `${a.slice(0, -2)}xx`;
    await expect(verify(tampered)).rejects.toBeInstanceOf(TokenError);
    await expect(verify(tampered)).rejects.toBeInstanceOf(TokenError);
  });

  test("forgets a token once it has expired", async () => {
    const verify = createTokenVerifier(config);
    const now = Math.floor(Date.now() / 1000);
    const soon = await base()
      .setProtectedHeader({ alg: "HS256", typ: "at+jwt" })
      .setIssuedAt(now - 10)
      .setExpirationTime(now + 1)
      .sign(key);
    expect((await verify(soon)).sub).toBe("7312950014423042");
    await Bun.sleep(1100);
    await expect(verify(soon)).rejects.toThrow(/expired/);
  });
});
