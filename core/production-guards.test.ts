import { describe, expect, test } from "bun:test";
import { parseConfig } from "./config.ts";
import { configRefusals, isLoopbackHost, KNOWN_SECRETS, SECRET_SETTINGS } from "./production-guards.ts";

// What production refuses at start-up. (api/production-config.integration.test.ts starts the
// real api process with each bad setting.)

/** A production configuration that may start: every refusal below is one change from it. */
export const GOOD_PRODUCTION = {
  NODE_ENV: "production",
  PUBLIC_URL: "https://feed.example.com",
  // Made at run time: a literal here would be one more published secret.
  JWT_SECRET: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url"),
} as const;

/** The refusals of an environment, as parseConfig would find them (it throws them instead). */
const refusals = (env: Record<string, string | undefined>) =>
  configRefusals(
    {
      NODE_ENV: env.NODE_ENV?.trim() || "development",
      PUBLIC_URL: env.PUBLIC_URL ?? "http://localhost:3000",
      OIDC_ISSUER: env.OIDC_ISSUER,
      LOAD_TEST_SECRET: env.LOAD_TEST_SECRET,
      FAULT_CRASH_AFTER_COMMIT_FILE: env.FAULT_CRASH_AFTER_COMMIT_FILE,
    },
    env,
  );

describe("production refusals", () => {
  test("a good production configuration passes", () => {
    expect(refusals(GOOD_PRODUCTION)).toEqual([]);
    expect(parseConfig(GOOD_PRODUCTION).NODE_ENV).toBe("production");
  });

  test("every secret setting: a published value or one under 32 bytes, named without its value", () => {
    for (const name of SECRET_SETTINGS) {
      for (const value of ["dev-only-secret-change-me-0123456789abcdef", "feed-local-secret", "S3RVER"]) {
        const out = refusals({ ...GOOD_PRODUCTION, [name]: value });
        expect([name, out]).toEqual([name, [expect.stringContaining(`${name}: a value published`)]]);
      }
      const short = refusals({ ...GOOD_PRODUCTION, [name]: "an-unpublished-but-short-secret" });
      expect(short).toEqual([`${name}: shorter than 32 bytes, refused in production`]);
      expect(short.join()).not.toContain("an-unpublished");
    }
    // Outside production the same values are the point of a development stack.
    expect(
      refusals({ NODE_ENV: "development", JWT_SECRET: "dev-only-secret-change-me-0123456789abcdef" }),
    ).toEqual([]);
  });

  test("the load-test signer, the fault hook, plain http and the mock identity provider", () => {
    const one = (extra: Record<string, string>) => refusals({ ...GOOD_PRODUCTION, ...extra });
    expect(one({ LOAD_TEST_SECRET: "x".repeat(40) })).toEqual([
      "LOAD_TEST_SECRET: the load-test token signer, refused in production",
    ]);
    expect(one({ FAULT_CRASH_AFTER_COMMIT_FILE: "/tmp/x" })[0]).toStartWith("FAULT_CRASH_AFTER_COMMIT_FILE:");
    expect(one({ PUBLIC_URL: "http://feed.example.com" })).toEqual([
      "PUBLIC_URL: must be https: in production",
    ]);
    expect(one({ OIDC_ISSUER: "http://idp.example.com" })).toEqual([
      "OIDC_ISSUER: must be https: in production",
    ]);
    expect(one({ OIDC_ISSUER: "http://mock-idp:9400" })).toHaveLength(2);
    expect(one({ OIDC_ISSUER: "https://mock-idp:9400" })[0]).toContain("mock identity provider");
    expect(one({ OIDC_ISSUER: "https://localhost:9400" })[0]).toContain("mock identity provider");
    expect(one({ OIDC_ISSUER: "https://accounts.example.com" })).toEqual([]);
  });

  test("NODE_ENV must be said when PUBLIC_URL is not a loopback address", () => {
    expect(refusals({ PUBLIC_URL: "https://feed.example.com" })[0]).toStartWith("NODE_ENV: required");
    expect(refusals({ NODE_ENV: " ", PUBLIC_URL: "http://10.0.0.5:3000" })[0]).toStartWith("NODE_ENV:");
    expect(refusals({ PUBLIC_URL: "http://localhost:3000" })).toEqual([]);
    expect(refusals({ PUBLIC_URL: "http://127.0.0.1:3000" })).toEqual([]);
    expect(refusals({ NODE_ENV: "development", PUBLIC_URL: "http://feed.internal:3000" })).toEqual([]);
  });

  test("parseConfig throws them all in one line, without values", () => {
    let msg = "";
    try {
      parseConfig({ ...GOOD_PRODUCTION, PUBLIC_URL: "http://x.example", LOAD_TEST_SECRET: "q".repeat(33) });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain("PUBLIC_URL: must be https:");
    expect(msg).toContain("LOAD_TEST_SECRET:");
    expect(msg).not.toContain("q".repeat(33));
    expect(msg.split("\n")).toHaveLength(1);
  });

  test("loopback hosts", () => {
    for (const h of ["localhost", "api.localhost", "127.0.0.1", "127.9.9.9", "[::1]", "::1"])
      expect([h, isLoopbackHost(h)]).toEqual([h, true]);
    for (const h of ["example.com", "10.0.0.1", "128.0.0.1", "[::2]", "localhost.example.com"])
      expect([h, isLoopbackHost(h)]).toEqual([h, false]);
  });
});

describe("the secrets published in this repository", () => {
  const NAME_RE = "[A-Z0-9_]*(?:SECRET|PASSWORD)[A-Z0-9_]*";
  const PATTERNS = [
    // JSON, YAML, TypeScript: NAME: "value", NAME = "value" (a constant named after one).
    new RegExp(`\\b${NAME_RE}\\b["']?\\s*[:=]\\s*["']([^"'\\s$\`{}]+)["']`, "g"),
    // Shell and .env: NAME=value.
    new RegExp(`\\b${NAME_RE}=([^\\s"'$\`{}#]+)`, "g"),
    // compose and ./dev: \${NAME:-value}.
    new RegExp(`\\$\\{${NAME_RE}:-([^}]+)\\}`, "g"),
    // YAML without quotes: NAME: value.
    new RegExp(`^\\s*${NAME_RE}:[ \\t]+([^\\s"'$#{}]+)[ \\t]*$`, "gm"),
  ];

  async function publishedSecrets(): Promise<Map<string, string>> {
    const root = `${import.meta.dir}/..`;
    const files = Bun.spawnSync(["git", "ls-files"], { cwd: root })
      .stdout.toString()
      .split("\n")
      .filter((f) => f && !f.startsWith("perf/reports/") && !/\.(png|lock)$/.test(f));
    const found = new Map<string, string>();
    for (const f of files) {
      const file = Bun.file(`${root}/${f}`);
      if (!(await file.exists())) continue;
      const text = await file.text();
      for (const re of PATTERNS) for (const m of text.matchAll(re)) found.set(m[1]!, f);
    }
    return found;
  }

  test("every one is refused in production, whichever secret setting it is given to", async () => {
    const found = await publishedSecrets();
    // The scan itself works: it finds the development defaults of ./dev and compose.
    expect(found.get("dev-only-secret-change-me-0123456789abcdef")).toBeDefined();
    expect(found.get("compose-only-secret-change-me-0123456789")).toBeDefined();
    expect(found.get("feed-minio-secret")).toBeDefined();
    const accepted = [...found].filter(([value]) =>
      SECRET_SETTINGS.some((name) => refusals({ ...GOOD_PRODUCTION, [name]: value }).length === 0),
    );
    // A new secret in the repository: add it to KNOWN_SECRETS (core/production-guards.ts).
    expect(accepted).toEqual([]);
  });

  test("KNOWN_SECRETS holds nothing the repository does not publish (it stays a true list)", async () => {
    const found = await publishedSecrets();
    const text = await Bun.file(`${import.meta.dir}/production-guards.ts`).text();
    for (const s of KNOWN_SECRETS) {
      expect([s, found.has(s) || text.split(`"${s}"`).length > 1]).toEqual([s, true]);
    }
  });
});
