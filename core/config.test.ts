import { describe, expect, test } from "bun:test";
import { loadTestConfig } from "../db/testing.ts";
import { CONFIG_VARIABLES, ConfigError, earliestIdleCloseMs, parseConfig } from "./config.ts";

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

  test("the chaos suite's crash hook is refused in production", () => {
    const hook = { FAULT_CRASH_AFTER_COMMIT_FILE: "/tmp/crash" };
    expect(() => parseConfig({ ...hook, NODE_ENV: "production", JWT_SECRET: "x".repeat(32) })).toThrow(
      /FAULT_CRASH_AFTER_COMMIT_FILE: a fault hook for chaos tests, refused in production/,
    );
    expect(parseConfig({ ...hook, NODE_ENV: "test" }).FAULT_CRASH_AFTER_COMMIT_FILE).toBe("/tmp/crash");
  });

  test("a short JWT secret is refused, a missing one is refused in production", () => {
    expect(() => parseConfig({ JWT_SECRET: "short" })).toThrow(/JWT_SECRET/);
    const prod = { NODE_ENV: "production", PUBLIC_URL: "https://feed.example.com" };
    expect(() => parseConfig(prod)).toThrow(/JWT_SECRET: required in production/);
    expect(parseConfig({ ...prod, JWT_SECRET: "x".repeat(32) }).JWT_SECRET).toBe("x".repeat(32));
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

  test("REDIS_CLUSTER_NODES is a list of host:port, unset when blank", () => {
    expect(parseConfig({}).REDIS_CLUSTER_NODES).toBeUndefined();
    expect(parseConfig({ REDIS_CLUSTER_NODES: " " }).REDIS_CLUSTER_NODES).toBeUndefined();
    expect(
      parseConfig({ REDIS_CLUSTER_NODES: "127.0.0.1:7001, redis-2:7002,[::1]:7003" }).REDIS_CLUSTER_NODES,
    ).toEqual([
      { host: "127.0.0.1", port: 7001 },
      { host: "redis-2", port: 7002 },
      { host: "::1", port: 7003 },
    ]);
    for (const bad of ["127.0.0.1", "127.0.0.1:0", "host:70000", "a:1,,b:2", "redis://x:1"])
      expect(() => parseConfig({ REDIS_CLUSTER_NODES: bad })).toThrow(
        /REDIS_CLUSTER_NODES=.*expected host:port\[,host:port…\]/,
      );
  });

  test("tests take TEST_REDIS_CLUSTER_NODES, never the development cluster", () => {
    const dev = { REDIS_CLUSTER_NODES: "127.0.0.1:7001" };
    expect(loadTestConfig(dev).REDIS_CLUSTER_NODES).toEqual([{ host: "127.0.0.1", port: 7001 }]);
    const saved = { dev: process.env.REDIS_CLUSTER_NODES, test: process.env.TEST_REDIS_CLUSTER_NODES };
    try {
      process.env.REDIS_CLUSTER_NODES = "127.0.0.1:7001";
      delete process.env.TEST_REDIS_CLUSTER_NODES;
      expect(loadTestConfig().REDIS_CLUSTER_NODES).toBeUndefined();
      process.env.TEST_REDIS_CLUSTER_NODES = "127.0.0.1:7101";
      expect(loadTestConfig().REDIS_CLUSTER_NODES).toEqual([{ host: "127.0.0.1", port: 7101 }]);
    } finally {
      for (const [k, v] of [
        ["REDIS_CLUSTER_NODES", saved.dev],
        ["TEST_REDIS_CLUSTER_NODES", saved.test],
      ] as const)
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
  });
});

describe("hardening limits", () => {
  test("defaults: 64 KiB JSON, 8 KiB / 100 headers, 4096-character URLs, 10 s deadline, 30 s idle", () => {
    expect(parseConfig({})).toMatchObject({
      MAX_JSON_BODY_BYTES: 65_536,
      MAX_HEADER_BYTES: 8_192,
      MAX_HEADER_COUNT: 100,
      MAX_URL_LENGTH: 4_096,
      REQUEST_TIMEOUT_MS: 10_000,
      IDLE_TIMEOUT_SECONDS: 30,
      DATABASE_STATEMENT_TIMEOUT_MS: 5_000,
      CORS_ORIGINS: [],
    });
  });

  test("header and URL limits cannot be raised past Bun's own, which would answer first", () => {
    expect(() => parseConfig({ MAX_HEADER_BYTES: "32768" })).toThrow(/MAX_HEADER_BYTES="32768"/);
    expect(() => parseConfig({ MAX_HEADER_COUNT: "500" })).toThrow(/MAX_HEADER_COUNT/);
    expect(() => parseConfig({ IDLE_TIMEOUT_SECONDS: "300" })).toThrow(/IDLE_TIMEOUT_SECONDS/);
  });

  test("the request deadline must fire before Bun's idle timeout can drop the connection", () => {
    // Bun's timers tick every 4 s: idleTimeout 30 may close a connection after 28 s already.
    expect(earliestIdleCloseMs(30)).toBe(28_000);
    expect(earliestIdleCloseMs(8)).toBe(4_000);
    expect(earliestIdleCloseMs(3)).toBe(0);
    expect(() => parseConfig({ REQUEST_TIMEOUT_MS: "28000" })).toThrow(
      /REQUEST_TIMEOUT_MS=28000: must be below 28000 ms, the earliest Bun may drop a connection with IDLE_TIMEOUT_SECONDS=30/,
    );
    expect(() => parseConfig({ IDLE_TIMEOUT_SECONDS: "4", REQUEST_TIMEOUT_MS: "100" })).toThrow(
      /REQUEST_TIMEOUT_MS/,
    );
    expect(parseConfig({ REQUEST_TIMEOUT_MS: "27999" }).REQUEST_TIMEOUT_MS).toBe(27_999);
  });

  test("AUTH_RETURN_URLS is a list of absolute http(s) URLs as browsers write them; blank is none", () => {
    expect(parseConfig({}).AUTH_RETURN_URLS).toEqual([]);
    expect(
      parseConfig({ AUTH_RETURN_URLS: "http://localhost:3000/app/, https://app.example/cb?x=1" })
        .AUTH_RETURN_URLS,
    ).toEqual(["http://localhost:3000/app/", "https://app.example/cb?x=1"]);
    for (const bad of [
      "/app/",
      "app.example",
      "javascript:alert(1)",
      "https://App.example/",
      "https://a.example/#x",
    ])
      expect(() => parseConfig({ AUTH_RETURN_URLS: bad })).toThrow(
        /AUTH_RETURN_URLS=.*is not an absolute http\(s\) URL/,
      );
  });

  test("CORS_ORIGINS is a list of exact origins; blank is none", () => {
    expect(parseConfig({ CORS_ORIGINS: " " }).CORS_ORIGINS).toEqual([]);
    expect(parseConfig({ CORS_ORIGINS: "https://app.example, http://localhost:5173" }).CORS_ORIGINS).toEqual([
      "https://app.example",
      "http://localhost:5173",
    ]);
    for (const bad of [
      "*",
      "app.example",
      "https://app.example/",
      "https://*.example",
      "ftp://x.example",
      "https://App.example",
      "https://a.example:443",
    ])
      expect(() => parseConfig({ CORS_ORIGINS: bad })).toThrow(/CORS_ORIGINS=.*is not an exact origin/);
  });
});
