import { describe, expect, test } from "bun:test";
import { CONFIG_VARIABLES, ConfigError, parseConfig } from "./config.ts";

describe("config", () => {
  test("defaults suit local development", () => {
    const c = parseConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.PROJECTOR_METRICS_PORT).toBe(9101);
    expect(c.FANOUT_PULL_THRESHOLD).toBe(10_000);
    expect(c.FEED_MAX_ITEMS).toBe(1000);
    expect(c.MAX_DELIVERIES).toBe(5);
    expect(c.JWT_SECRET.length).toBeGreaterThanOrEqual(32);
    expect(c.JWT_ISSUER).toBe(c.PUBLIC_URL);
  });

  test("coerces numbers from strings", () => {
    expect(parseConfig({ PORT: "8080", STREAM_PARTITIONS: "4" })).toMatchObject({
      PORT: 8080,
      STREAM_PARTITIONS: 4,
    });
  });

  test("fails fast naming every bad variable", () => {
    try {
      parseConfig({ PORT: "http", DATABASE_URL: "not a url", STREAM_PARTITIONS: "0" });
      throw new Error("accepted");
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const msg = (e as Error).message;
      expect(msg).toContain("PORT");
      expect(msg).toContain("DATABASE_URL");
      expect(msg).toContain("STREAM_PARTITIONS");
      // One line for a log, the value shown where it is no secret.
      expect(msg).not.toContain("\n");
      expect(msg).toContain('PORT="http"');
    }
  });

  test("never echoes a secret or a URL (it may carry a password)", () => {
    let msg = "";
    try {
      parseConfig({ JWT_SECRET: "short-secret", DATABASE_URL: "pg://u:pw@" });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain("JWT_SECRET");
    expect(msg).toContain("DATABASE_URL");
    expect(msg).not.toContain("short-secret");
    expect(msg).not.toContain("pw@");
  });

  test("an entry point exits 78 with one line naming the variable", () => {
    const run = Bun.spawnSync(["bun", "-e", "import('./core/config.ts').then(m => m.loadConfigOrExit())"], {
      env: { ...process.env, PORT: "abc" },
    });
    expect(run.exitCode).toBe(78);
    const err = run.stderr.toString();
    expect(err.trim().split("\n")).toHaveLength(1);
    expect(err).toContain('PORT="abc"');
  });

  test("lists every variable it reads", () => {
    expect(CONFIG_VARIABLES).toContain("DATABASE_URL");
    expect(CONFIG_VARIABLES).toContain("FANOUT_PULL_THRESHOLD");
  });

  test("a short JWT secret is refused, a missing one is refused in production", () => {
    expect(() => parseConfig({ JWT_SECRET: "short" })).toThrow(/JWT_SECRET/);
    expect(() => parseConfig({ NODE_ENV: "production" })).toThrow(/JWT_SECRET: required in production/);
    expect(parseConfig({ NODE_ENV: "production", JWT_SECRET: "x".repeat(32) }).JWT_SECRET).toBe(
      "x".repeat(32),
    );
  });

  test("the load-test signer's secret is optional, at least 32 characters, blank when unset", () => {
    expect(parseConfig({}).LOAD_TEST_SECRET).toBeUndefined();
    expect(parseConfig({ LOAD_TEST_SECRET: " " }).LOAD_TEST_SECRET).toBeUndefined();
    expect(parseConfig({ LOAD_TEST_SECRET: "y".repeat(32) }).LOAD_TEST_SECRET).toBe("y".repeat(32));
    let msg = "";
    try {
      parseConfig({ LOAD_TEST_SECRET: "too-short-secret" });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain("LOAD_TEST_SECRET: LOAD_TEST_SECRET must be at least 32 characters");
    expect(msg).not.toContain("too-short-secret");
  });

  test("blank optional settings count as unset", () => {
    expect(parseConfig({ OIDC_ISSUER: "  " }).OIDC_ISSUER).toBeUndefined();
  });
});
