import { describe, expect, test } from "bun:test";
import githubEmails from "./fixtures/github-emails.json";
import githubUser from "./fixtures/github-user.json";
import googleClaims from "./fixtures/google-id-claims.json";
import type { IdClaims } from "./id-token.ts";
import { baseHandle, type ExternalProfile, profileFromGithub, profileFromIdClaims } from "./profiles.ts";

const HANDLE = /^[a-z0-9_]{1,30}$/;
const profile = (p: Partial<ExternalProfile>): ExternalProfile => ({
  subject: "1",
  email: null,
  name: null,
  username: null,
  ...p,
});

describe("profileFromGithub", () => {
  test("subject is the numeric id as a string, email the primary verified one lower-cased, username the login", () => {
    expect(profileFromGithub(githubUser, githubEmails)).toEqual({
      subject: "58213907",
      email: "jose.muller@example.com",
      name: "José Müller",
      username: "JoseMuller-dev",
    });
  });

  test("the primary verified email wins regardless of its position in the list", () => {
    const reversed = [...githubEmails].reverse();
    expect(profileFromGithub(githubUser, reversed).email).toBe("jose.muller@example.com");
  });

  test("no primary verified email gives email null (a verified non-primary one is not used)", () => {
    const noPrimary = githubEmails.filter((e) => !e.primary);
    expect(noPrimary.some((e) => e.verified)).toBe(true);
    expect(profileFromGithub(githubUser, noPrimary).email).toBeNull();

    const primaryUnverified = githubEmails.map((e) => (e.primary ? { ...e, verified: false } : e));
    expect(profileFromGithub(githubUser, primaryUnverified).email).toBeNull();

    expect(profileFromGithub(githubUser, []).email).toBeNull();
  });

  test("a user without a display name keeps name null", () => {
    const p = profileFromGithub({ ...githubUser, name: null }, githubEmails);
    expect(p.name).toBeNull();
    expect(p.subject).toBe("58213907");
  });
});

describe("profileFromIdClaims", () => {
  const claims = googleClaims as IdClaims;

  test("Google claims: verified email lower-cased, name, sub as subject", () => {
    expect(profileFromIdClaims(claims)).toEqual({
      subject: "110248495921238986420",
      email: "ana.souza@example.com",
      name: "Ana Souza",
      username: null,
    });
  });

  test("an unverified email is dropped", () => {
    expect(profileFromIdClaims({ ...claims, email_verified: false }).email).toBeNull();
    const { email_verified: _, ...noFlag } = claims;
    expect(profileFromIdClaims(noFlag).email).toBeNull();
    // A string "true" is not the boolean the spec requires.
    expect(profileFromIdClaims({ ...claims, email_verified: "true" as unknown as boolean }).email).toBeNull();
  });

  test("no email gives null", () => {
    const { email: _, ...noEmail } = claims;
    expect(profileFromIdClaims(noEmail).email).toBeNull();
  });

  test("name falls back to given_name, then null", () => {
    const { name: _, ...noName } = claims;
    expect(profileFromIdClaims(noName).name).toBe("Ana");
    const { given_name: __, ...neither } = noName;
    expect(profileFromIdClaims(neither).name).toBeNull();
  });

  test("preferred_username becomes the username", () => {
    expect(profileFromIdClaims({ ...claims, preferred_username: "ana.s" }).username).toBe("ana.s");
  });
});

describe("baseHandle", () => {
  test("from the fixtures", () => {
    expect(baseHandle(profileFromGithub(githubUser, githubEmails))).toBe("josemuller_dev");
    expect(baseHandle(profileFromIdClaims(googleClaims as IdClaims))).toBe("ana_souza");
  });

  test("lower-cases and strips accents", () => {
    expect(baseHandle(profile({ name: "José Müller" }))).toBe("jose_muller");
    expect(baseHandle(profile({ username: "ÀÉÎÕÜ-Ñandú" }))).toBe("aeiou_nandu");
    expect(baseHandle(profile({ username: "Dora" }))).toBe("dora");
  });

  test("replaces runs of symbols with one underscore and trims underscores", () => {
    expect(baseHandle(profile({ username: "a.b-c+d e" }))).toBe("a_b_c_d_e");
    expect(baseHandle(profile({ username: "x!!!@@@y" }))).toBe("x_y");
    expect(baseHandle(profile({ username: "__--hello--__" }))).toBe("hello");
    expect(baseHandle(profile({ username: "snake_case_ok" }))).toBe("snake_case_ok");
  });

  test("at most 24 characters", () => {
    const h = baseHandle(profile({ username: "a".repeat(100) }));
    expect(h).toBe("a".repeat(24));
    expect(baseHandle(profile({ name: "Maximilian Alexander von Hohenberg-Württemberg" }))).toBe(
      "maximilian_alexander_von",
    );
  });

  test("falls back to the email local part, then the name, then 'user'", () => {
    expect(baseHandle(profile({ username: "!!!", email: "Jane.Doe+feed@example.com", name: "Jane" }))).toBe(
      "jane_doe_feed",
    );
    expect(baseHandle(profile({ email: "jane.doe@example.com", name: "Jane" }))).toBe("jane_doe");
    expect(baseHandle(profile({ username: "", email: "@example.com", name: "Zoë Ng" }))).toBe("zoe_ng");
    expect(baseHandle(profile({ email: "---@example.com", name: "李小龍" }))).toBe("user");
    expect(baseHandle(profile({}))).toBe("user");
  });

  test("always a valid handle", () => {
    const inputs = [
      "José Müller",
      "李小龍",
      "🙂🙂🙂",
      "Straße",
      "ﬁnance",
      "ＡＢＣ１２３",
      "Ⅻ",
      "İstanbul ılık",
      "Ωμέγα",
      "   ",
      "_",
      "a",
      "x".repeat(500),
      `${"é".repeat(30)}!`,
      "O'Brien-Smith, Jr.",
      "\u0000\u200b\ufeff",
      "e\u0301\u0301\u0301",
      "a__________________________________b",
    ];
    for (const s of inputs) {
      for (const p of [
        profile({ username: s }),
        profile({ email: `${s}@example.com` }),
        profile({ name: s }),
        profile({ username: s, email: `${s}@x.y`, name: s }),
      ]) {
        const h = baseHandle(p);
        expect(h).toMatch(HANDLE);
        expect(h.length).toBeLessThanOrEqual(24);
      }
    }
  });
});
