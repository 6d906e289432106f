// What production refuses to start with. Development conveniences (known secrets, the load-test
// signer, the bundled mock identity provider, fault hooks, plain http) must never reach a real
// deployment by accident, so each one is a start-up error there, naming the setting and never
// its value. config.ts calls this after parsing; an entry point then exits 78.

/**
 * Every secret value written anywhere in this repository: in ./dev, .env.example, compose.yml,
 * tests and perf tools. They are public, so in production each is as good as none.
 * core/production-guards.test.ts scans the repository and fails when a new one is missing here.
 */
export const KNOWN_SECRETS: ReadonlySet<string> = new Set([
  "dev-only-secret-change-me-0123456789abcdef",
  "dev-only-load-test-secret-0123456789abcdef",
  "compose-only-secret-change-me-0123456789",
  "compose-load-test-secret-0123456789",
  "chaos-only-secret-0123456789abcdef-0123456789",
  "cluster-run-load-test-secret-0123456789abcdef",
  "cluster-run-jwt-secret-0123456789abcdef-xyz",
  "integration-load-test-secret-0123456789",
  "another-secret-another-secret-0123456789",
  "a-test-secret-that-is-long-enough-0123456789",
  "feed-local-secret",
  "feed-fuzz-secret",
  "feed-minio",
  "feed-minio-secret",
  "S3RVER",
  "s3cret",
  "admin",
  "feed",
]);

/** The settings that hold secrets: each must be long and unknown in production. */
export const SECRET_SETTINGS = [
  "JWT_SECRET",
  "OIDC_CLIENT_SECRET",
  "GITHUB_CLIENT_SECRET",
  "GOOGLE_CLIENT_SECRET",
  "S3_SECRET",
] as const;

/** A secret shorter than this is guessable offline from one token (HS256) or a brute force. */
export const MIN_SECRET_BYTES = 32;

/** Host names of the bundled mock identity provider (compose's service, ./dev's default). */
const MOCK_IDP_HOSTS = new Set(["mock-idp"]);

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h.endsWith(".localhost") || /^127\.\d+\.\d+\.\d+$/.test(h) || h === "::1";
}

interface Settings {
  NODE_ENV: string;
  PUBLIC_URL: string;
  OIDC_ISSUER?: string;
  LOAD_TEST_SECRET?: string;
  FAULT_CRASH_AFTER_COMMIT_FILE?: string;
}

/**
 * The problems of a configuration, one "SETTING: why" each; empty when it may start. `env` is
 * the raw environment (to tell a missing NODE_ENV from its default) and holds the secrets.
 */
export function configRefusals(c: Settings, env: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  const publicUrl = new URL(c.PUBLIC_URL);
  if (!env.NODE_ENV?.trim() && !isLoopbackHost(publicUrl.hostname)) {
    out.push(
      "NODE_ENV: required when PUBLIC_URL is not a loopback address (production, or development/test on purpose)",
    );
  }
  if (c.NODE_ENV !== "production") return out;
  for (const name of SECRET_SETTINGS) {
    const value = env[name]?.trim();
    if (!value) continue;
    if (KNOWN_SECRETS.has(value)) {
      out.push(
        `${name}: a value published in this repository (a development default), refused in production`,
      );
    } else if (Buffer.byteLength(value) < MIN_SECRET_BYTES) {
      out.push(`${name}: shorter than ${MIN_SECRET_BYTES} bytes, refused in production`);
    }
  }
  if (c.LOAD_TEST_SECRET) out.push("LOAD_TEST_SECRET: the load-test token signer, refused in production");
  if (c.FAULT_CRASH_AFTER_COMMIT_FILE)
    out.push("FAULT_CRASH_AFTER_COMMIT_FILE: a fault hook for chaos tests, refused in production");
  if (publicUrl.protocol !== "https:") out.push("PUBLIC_URL: must be https: in production");
  if (c.OIDC_ISSUER) {
    const issuer = new URL(c.OIDC_ISSUER);
    if (issuer.protocol !== "https:") out.push("OIDC_ISSUER: must be https: in production");
    if (MOCK_IDP_HOSTS.has(issuer.hostname) || isLoopbackHost(issuer.hostname))
      out.push("OIDC_ISSUER: the bundled mock identity provider (or a loopback one), refused in production");
  }
  return out;
}
