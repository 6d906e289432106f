import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { childEnv, freePort, openTestDb, type TestDb, waitFor } from "../db/testing.ts";

// The real api process (`bun api/main.ts`) with NODE_ENV=production: one good configuration
// starts and serves; each development convenience or weak setting, one at a time, makes it exit
// 78 at once with one line naming the setting and never its value.

const root = `${import.meta.dir}/..`;

let db: TestDb;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(async () => {
  await db.close();
});

/** Made at run time: a literal would be one more secret published in the repository. */
const strong = () => Buffer.from(crypto.getRandomValues(new Uint8Array(36))).toString("base64url");

function productionEnv(extra: Record<string, string>) {
  return childEnv(db, {
    NODE_ENV: "production",
    PUBLIC_URL: "https://feed.example.com",
    JWT_SECRET: strong(),
    OIDC_ISSUER: "",
    OIDC_CLIENT_ID: "",
    OIDC_CLIENT_SECRET: "",
    GITHUB_CLIENT_SECRET: "",
    GOOGLE_CLIENT_SECRET: "",
    S3_SECRET: "",
    FAULT_CRASH_AFTER_COMMIT_FILE: "",
    ...extra,
  });
}

async function run(env: Record<string, string | undefined>) {
  const proc = Bun.spawn(["bun", "api/main.ts"], { cwd: root, env, stdout: "pipe", stderr: "pipe" });
  const exited = await Promise.race([proc.exited, Bun.sleep(15_000).then(() => null)]);
  if (exited === null) proc.kill("SIGKILL");
  return { code: exited, stderr: await new Response(proc.stderr).text() };
}

describe("production start-up", () => {
  test("a production configuration without development conveniences starts and serves", async () => {
    const port = freePort();
    const proc = Bun.spawn(["bun", "api/main.ts"], {
      cwd: root,
      env: productionEnv({ PORT: String(port) }),
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      await waitFor(
        async () => (await fetch(`http://127.0.0.1:${port}/ready`).catch(() => null))?.status === 200,
        20_000,
        "the production api to be ready",
      );
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      expect(res.headers.get("strict-transport-security")).toContain("max-age=");
      // The load-test signer does not exist here.
      expect((await fetch(`http://127.0.0.1:${port}/loadtest/tokens`, { method: "POST" })).status).toBe(404);
    } finally {
      proc.kill("SIGKILL");
      await proc.exited;
    }
  });

  const refused: [string, Record<string, string>, string][] = [
    ["./dev's JWT secret", { JWT_SECRET: "dev-only-secret-change-me-0123456789abcdef" }, "JWT_SECRET"],
    ["compose's JWT secret", { JWT_SECRET: "compose-only-secret-change-me-0123456789" }, "JWT_SECRET"],
    ["a short JWT secret", { JWT_SECRET: `${strong().slice(0, 31)}` }, "JWT_SECRET"],
    ["the load-test signer", { LOAD_TEST_SECRET: strong() }, "LOAD_TEST_SECRET"],
    ["the mock IdP's client secret", { OIDC_CLIENT_SECRET: "feed-local-secret" }, "OIDC_CLIENT_SECRET"],
    ["the local S3 secret", { S3_SECRET: "feed-minio-secret" }, "S3_SECRET"],
    ["a short GitHub secret", { GITHUB_CLIENT_SECRET: "abc123" }, "GITHUB_CLIENT_SECRET"],
    ["an http issuer", { OIDC_ISSUER: "http://idp.example.com" }, "OIDC_ISSUER"],
    ["the bundled mock issuer", { OIDC_ISSUER: "https://mock-idp:9400" }, "OIDC_ISSUER"],
    ["an http PUBLIC_URL", { PUBLIC_URL: "http://feed.example.com" }, "PUBLIC_URL"],
    [
      "the chaos fault hook",
      { FAULT_CRASH_AFTER_COMMIT_FILE: "/tmp/crash" },
      "FAULT_CRASH_AFTER_COMMIT_FILE",
    ],
    ["no NODE_ENV on a public address", { NODE_ENV: "" }, "NODE_ENV"],
  ];

  test("each unsafe setting alone: exit 78, one line naming it, never its value", async () => {
    const results = await Promise.all(refused.map(([, extra]) => run(productionEnv(extra))));
    refused.forEach(([what, extra, setting], i) => {
      const { code, stderr } = results[i]!;
      expect([what, code]).toEqual([what, 78]);
      expect([what, stderr.trim().split("\n").length]).toEqual([what, 1]);
      expect([what, stderr]).toEqual([what, expect.stringContaining(`${setting}:`)]);
      for (const value of Object.values(extra).filter((v) => v.length > 3))
        expect([what, stderr.includes(value)]).toEqual([what, false]);
    });
  });
});
