import { z } from "zod";
import { configRefusals } from "./production-guards.ts";

// The one place that reads the environment (docs/architecture.md §8). Everything else receives
// a Config.

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);

const optional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v));

/**
 * A Redis Cluster's seed nodes, `host:port` comma-separated (ioredis discovers the rest). Blank
 * means unset: a standalone Redis at REDIS_URL.
 */
const clusterNodes = optional.pipe(
  z
    .string()
    .transform((v, ctx) => {
      const nodes = v.split(",").map((s) => s.trim());
      const parsed = nodes.map((n) => {
        const m = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(n);
        const port = m ? Number(m[2]) : 0;
        return m && port >= 1 && port <= 65535 ? { host: m[1]!.replace(/^\[|\]$/g, ""), port } : null;
      });
      if (parsed.some((p) => p === null)) {
        ctx.addIssue({ code: "custom", message: "expected host:port[,host:port…]" });
        return z.NEVER;
      }
      return parsed as { host: string; port: number }[];
    })
    .optional(),
);

/** A comma-separated list, each entry passing `problem` (its message when it does not). */
const commaList = (problem: (entry: string) => string | null) =>
  z
    .string()
    .default("")
    .transform((v, ctx) => {
      const entries = v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      for (const e of entries) {
        const message = problem(e);
        if (message) {
          ctx.addIssue({ code: "custom", message });
          return z.NEVER;
        }
      }
      return entries;
    });

const parsesAs = (u: string, ok: (url: URL) => boolean) => {
  try {
    return ok(new URL(u));
  } catch {
    return false;
  }
};

/**
 * Browser origins allowed to call the API cross-origin: exact `scheme://host[:port]` values,
 * comma-separated. Exact strings only (no wildcards, no substrings): an origin list is a
 * security boundary, and a pattern that matches too much is the usual CORS hole.
 */
const corsOrigins = commaList((o) =>
  // As browsers send it: lower-case scheme and host, a port only when not the default.
  /^https?:\/\/(\[[0-9a-f:]+\]|[a-z0-9.-]+)(:\d{1,5})?$/.test(o) && parsesAs(o, (url) => url.origin === o)
    ? null
    : `"${o}" is not an exact origin (scheme://host[:port], no path, no wildcard)`,
);

/**
 * Where a sign-in may return to an app (GET /auth/{provider}/login?return_to=): absolute http(s)
 * URLs, comma-separated, matched exactly. An open list would let anyone's page receive a
 * sign-in code.
 */
const returnUrls = commaList((u) =>
  parsesAs(u, (url) => (url.protocol === "http:" || url.protocol === "https:") && !url.hash && url.href === u)
    ? null
    : `"${u}" is not an absolute http(s) URL as a browser writes it`,
);

const schema = z.object({
  NODE_ENV: optional.pipe(z.enum(["development", "test", "production"]).default("development")),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  /**
   * Request log lines: always for server errors and requests slower than LOG_SLOW_MS, for the
   * rest this share of them (metrics count every request either way).
   */
  LOG_SLOW_MS: int(500, 0, 600_000),
  LOG_SAMPLE_RATE: z.coerce.number().min(0).max(1).default(0.01),
  DATABASE_URL: z.url().default("postgres://feed:feed@127.0.0.1:55432/feed"),
  TEST_DATABASE_URL: z.url().default("postgres://feed:feed@127.0.0.1:55432/feed_test"),
  DATABASE_POOL_SIZE: int(10, 1, 200),
  /**
   * statement_timeout of the api's connections: a stuck query fails instead of pinning a request
   * (and a pool connection) forever. 0 turns it off. The projector's batch work is not bounded.
   */
  DATABASE_STATEMENT_TIMEOUT_MS: int(5_000, 0, 600_000),
  REDIS_URL: z.url().default("redis://127.0.0.1:56379/0"),
  TEST_REDIS_URL: z.url().default("redis://127.0.0.1:56379/1"),
  /** Set: Redis Cluster through these seed nodes (REDIS_URL is then not used). */
  REDIS_CLUSTER_NODES: clusterNodes,
  /**
   * A Redis command unanswered this long fails (the request answers 503) instead of waiting: a
   * hung Redis (SIGSTOP, a stalled host) keeps its TCP connection open, so only this ends the
   * wait. Blocking stream reads are exempt; they have their own BLOCK time.
   */
  REDIS_COMMAND_TIMEOUT_MS: int(2_000, 50, 60_000),
  /** The tests' cluster, if they are to run against one (never REDIS_CLUSTER_NODES's). */
  TEST_REDIS_CLUSTER_NODES: clusterNodes,
  PORT: int(3000, 1, 65535),
  /** Where the api and the projector listen: all interfaces in a container, loopback for ./dev. */
  HOST: z.string().min(1).default("0.0.0.0"),
  /**
   * The api's /metrics is served on this port only, never beside the API, so a gateway that
   * forwards the API cannot expose it: only what reaches this port (Prometheus) scrapes. 0 picks
   * a free port (tests that start many api processes).
   */
  METRICS_PORT: int(9102, 0, 65535),
  PROJECTOR_METRICS_PORT: int(9101, 1, 65535),
  PUBLIC_URL: z.url().default("http://localhost:3000"),
  JWT_SECRET: z.string().min(32, "JWT_SECRET must be at least 32 characters").optional(),
  /**
   * Enables POST /loadtest/tokens, which mints access tokens for seeded users to whoever holds
   * it. Load tests only: never set in a real deployment. Blank counts as unset.
   */
  LOAD_TEST_SECRET: optional.pipe(
    z.string().min(32, "LOAD_TEST_SECRET must be at least 32 characters").optional(),
  ),
  /**
   * Chaos tests only: while this file exists, the api's next command deletes it and kills its
   * own process (SIGKILL) between commit and XADD, the crash the outbox sweeper exists for.
   * Refused in production.
   */
  FAULT_CRASH_AFTER_COMMIT_FILE: optional,
  JWT_AUDIENCE: z.string().min(1).default("feed-api"),
  ACCESS_TOKEN_TTL_SECONDS: int(900, 60, 900),
  REFRESH_IDLE_DAYS: int(7, 1, 90),
  REFRESH_ABSOLUTE_DAYS: int(30, 1, 365),
  LOGIN_STATE_TTL_SECONDS: int(600, 60, 600),
  AUTH_RETURN_URLS: returnUrls,
  /** Port of the bundled mock identity provider (development and tests only). */
  MOCK_IDP_PORT: int(9400, 1, 65535),
  // Media and SSO settings are read now so that one module knows every variable; they are used
  // by later issues.
  S3_ENDPOINT: optional,
  S3_KEY: optional,
  S3_SECRET: optional,
  S3_BUCKET: z.string().default("feed-media"),
  S3_REGION: z.string().default("us-east-1"),
  /** The endpoint presigned URLs name, when clients reach storage elsewhere than the services do. */
  S3_PUBLIC_ENDPOINT: optional,
  /** Lifetime of presigned GET URLs in responses. */
  MEDIA_URL_TTL_SECONDS: int(900, 60, 7 * 86_400),
  MEDIA_MAX_BYTES: int(5 * 1024 * 1024, 1024, 50 * 1024 * 1024),
  /** Decoding limit: images with more pixels are refused before they are decoded. */
  MEDIA_MAX_PIXELS: int(40_000_000, 1_000_000, 268_402_689),
  /**
   * Per user, direct uploads handed out (POST /uploads) and not yet attached or swept: how many,
   * and their declared bytes. Past either, POST /uploads answers 429.
   */
  UPLOAD_PENDING_MAX_COUNT: int(20, 1, 10_000),
  UPLOAD_PENDING_MAX_BYTES: int(100 * 1024 * 1024, 1024, 1024 * 1024 * 1024 * 1024),
  /** Images an api process decodes at once (api/media/decode-gate.ts); more wait, then 503. */
  MEDIA_DECODE_CONCURRENCY: int(2, 1, 64),
  /** How long an upload waits for a decode slot before its 503. */
  MEDIA_DECODE_WAIT_MS: int(2_000, 10, 60_000),
  GITHUB_CLIENT_ID: optional,
  GITHUB_CLIENT_SECRET: optional,
  GOOGLE_CLIENT_ID: optional,
  GOOGLE_CLIENT_SECRET: optional,
  OIDC_ISSUER: optional.pipe(z.url().optional()),
  OIDC_CLIENT_ID: optional,
  OIDC_CLIENT_SECRET: optional,
  STREAM_PARTITIONS: int(8, 1, 1024),
  MAX_DELIVERIES: int(5, 1, 100),
  CLAIM_TIMEOUT_MS: int(30_000, 10, 3_600_000),
  RETRY_BASE_MS: int(200, 1, 60_000),
  RETRY_MAX_MS: int(10_000, 1, 600_000),
  SWEEP_INTERVAL_MS: int(1_000, 10, 600_000),
  OUTBOX_GRACE_MS: int(5_000, 0, 600_000),
  // The api marks published outbox rows in one UPDATE this often, not one per command.
  OUTBOX_MARK_FLUSH_MS: int(10, 0, 1_000),
  FANOUT_PULL_THRESHOLD: int(10_000, 1),
  FANOUT_BATCH_SIZE: int(2_000, 1, 100_000),
  // Posts with more active followers (the rows they write) are fanned out by the lane, batch by
  // batch, not inline.
  FANOUT_INLINE_MAX: int(1_000, 0, 1_000_000),
  // Lane workers per projector: each works one job's batch at a time (jobs claimed SKIP LOCKED).
  FANOUT_LANE_WORKERS: int(2, 1, 64),
  // Feeds owed a trim after fan-out are trimmed together, off the insert path, this often.
  FEED_TRIM_FLUSH_MS: int(500, 0, 60_000),
  FOLLOW_BACKFILL_POSTS: int(50, 0, 1000),
  FEED_MAX_ITEMS: int(1_000, 10, 100_000),
  FEED_CACHE_ITEMS: int(300, 10, 10_000),
  FEED_ACTIVE_DAYS: int(7, 1, 365),
  // A reader's read of the day is recorded in feed_readers by one batched statement this often.
  READER_TOUCH_FLUSH_MS: int(200, 0, 10_000),
  AUTHOR_CACHE_POSTS: int(100, 1, 1000),
  CACHE_TTL_SECONDS: int(3_600, 1, 7 * 86_400),
  /**
   * Each api process keeps post bodies, users and rendered posts in memory (api/hydrate/memory.ts),
   * dropped on the invalidation channel; the TTL bounds what a lost message leaves stale.
   */
  MEMORY_CACHE_POSTS: int(100_000, 1, 10_000_000),
  MEMORY_CACHE_USERS: int(50_000, 1, 10_000_000),
  MEMORY_CACHE_TTL_SECONDS: int(300, 1, 86_400),
  /**
   * liked_by_me comes from a per-viewer Redis set of every post the viewer liked (core/liked-set.ts);
   * viewers with more likes than this are not cached and ask PostgreSQL. 0 turns the set off.
   */
  LIKES_CACHE_MAX: int(5_000, 0, 100_000),
  POPULAR_WINDOW_HOURS: int(24, 1, 24 * 30),
  IDEMPOTENCY_TTL_HOURS: int(24, 1, 24 * 30),
  SHUTDOWN_TIMEOUT_MS: int(10_000, 100, 120_000),
  /**
   * /ready's answer is shared for this long per process (0: every call checks), so that however
   * often balancers and probes ask, PostgreSQL and Redis get one ping each per window.
   */
  READY_CACHE_MS: int(1_000, 0, 60_000),
  // HTTP limits of the api (api/plugins/limits.ts, api/server.ts). The header and URL limits stay
  // below Bun's own (16 KiB of request line and headers, about 200 headers), so a client gets a
  // problem+json 431/414 from us rather than Bun's bare 431.
  MAX_JSON_BODY_BYTES: int(64 * 1024, 1024, 10 * 1024 * 1024),
  MAX_HEADER_BYTES: int(8 * 1024, 1024, 16 * 1024),
  MAX_HEADER_COUNT: int(100, 10, 190),
  MAX_URL_LENGTH: int(4096, 256, 16_000),
  /**
   * Bun.serve's idleTimeout: a connection with nothing to do is closed after this long, and so
   * is one whose request (body and handler) is still running; Bun allows at most 255.
   * REQUEST_TIMEOUT_MS must end before it (see earliestIdleCloseMs).
   */
  IDLE_TIMEOUT_SECONDS: int(30, 1, 255),
  /** Deadline of one request, body included: past it the client gets 408 or 503, never silence. */
  REQUEST_TIMEOUT_MS: int(10_000, 100, 250_000),
  CORS_ORIGINS: corsOrigins,
  // Requests per minute: reads and writes per user, sign-in routes per IP. 0 disables (benchmarks).
  RATE_LIMIT_READS_PER_MINUTE: int(1_200, 0, 1_000_000),
  RATE_LIMIT_WRITES_PER_MINUTE: int(300, 0, 1_000_000),
  RATE_LIMIT_AUTH_PER_MINUTE: int(60, 0, 1_000_000),
  /**
   * Reverse proxies in front of the api that append the client to X-Forwarded-For (compose: its
   * nginx, 1). The client is the address that many hops from the right; hops further left are
   * whatever the client sent. 0: the socket's address, the header ignored.
   */
  TRUSTED_PROXIES: int(0, 0, 10),
});

export type Config = z.infer<typeof schema> & { JWT_SECRET: string; JWT_ISSUER: string };

/**
 * How soon Bun may close a connection after its last activity, for an idleTimeout: its timers
 * tick every 4 s and a timeout fires on the ceil(idle / 4)-th tick, so anywhere from 4 s before
 * idleTimeout to idleTimeout itself (measured on Bun 1.4: idleTimeout 8 closes after 4.5-8 s).
 */
export function earliestIdleCloseMs(idleTimeoutSeconds: number): number {
  return (Math.ceil(idleTimeoutSeconds / 4) - 1) * 4000;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses an environment-like record; throws a ConfigError naming every bad variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = schema.safeParse(env);
  if (!result.success) {
    // One line, every bad variable named, with its value unless that is a secret: what an
    // operator reads in a log.
    const parts = result.error.issues.map((i) => {
      const name = i.path.join(".");
      const shown = /SECRET|KEY|PASSWORD|_URL$/.test(name) ? "" : `=${JSON.stringify(env[name] ?? null)}`;
      return `${name}${shown}: ${i.message}`;
    });
    throw new ConfigError(`invalid configuration: ${parts.join("; ")}`);
  }
  const c = result.data;
  // Bun drops a connection whose request outlives idleTimeout without answering: the deadline
  // must fire first, or a slow request ends in a reset instead of a 503.
  const earliest = earliestIdleCloseMs(c.IDLE_TIMEOUT_SECONDS);
  if (c.REQUEST_TIMEOUT_MS >= earliest) {
    throw new ConfigError(
      `invalid configuration: REQUEST_TIMEOUT_MS=${c.REQUEST_TIMEOUT_MS}: must be below ${earliest} ms, the earliest Bun may drop a connection with IDLE_TIMEOUT_SECONDS=${c.IDLE_TIMEOUT_SECONDS} (its timers tick every 4 s)`,
    );
  }
  const refusals = configRefusals(c, env);
  if (refusals.length > 0) throw new ConfigError(`invalid configuration: ${refusals.join("; ")}`);
  let secret = c.JWT_SECRET;
  if (!secret) {
    // A missing secret in production would let every replica invent its own and reject the
    // others' tokens, so only development and tests get a fixed fallback.
    if (c.NODE_ENV === "production")
      throw new ConfigError("invalid configuration: JWT_SECRET: required in production");
    secret = "dev-only-secret-change-me-0123456789abcdef";
  }
  return { ...c, JWT_SECRET: secret, JWT_ISSUER: c.PUBLIC_URL };
}

/** This process's environment as it is: for test config and the processes tests start. */
export function processEnv(): Record<string, string | undefined> {
  return { ...process.env };
}

/** Reads process.env once; the entry points call this and pass the result down. */
export function loadConfig(overrides: Record<string, string | undefined> = {}): Config {
  return parseConfig({ ...processEnv(), ...overrides });
}

/** Every variable the services read: compose and .env.example may name no other. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(schema.shape);

/**
 * For entry points: a bad setting ends the process with one line naming the variable (exit 78,
 * EX_CONFIG), not a stack trace.
 */
export function loadConfigOrExit(overrides: Record<string, string | undefined> = {}): Config {
  try {
    return loadConfig(overrides);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`${e.message}\n`);
    process.exit(78);
  }
}

/**
 * Memoises something derived from a Config (a key, a verifier): made once per config object,
 * which in a process is once.
 */
export function perConfig<T>(make: (config: Config) => T): (config: Config) => T {
  const made = new WeakMap<Config, T>();
  return (config) => {
    let v = made.get(config);
    if (v === undefined) {
      v = make(config);
      made.set(config, v);
    }
    return v;
  };
}
