import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { type Config, parseConfig, processEnv } from "../core/config.ts";
import { randomShard } from "../core/ids.ts";
import { createBlockingRedis, createRedis, isCluster, type RedisClient } from "../core/redis.ts";
import { signAccessToken } from "../core/tokens.ts";
import { createSql, type Sql } from "./client.ts";
import { insertFollow, insertLike } from "./graph.ts";
import { migrate } from "./migrate.ts";
import { insertPost, type PostRow } from "./posts.ts";
import { insertUser, type UserRow } from "./users.ts";

// Test support for integration suites: the test database (never the development one) migrated
// once, the test Redis database, a statement counter, and factories for users (with tokens),
// posts, follows and likes.

export interface TestDb {
  config: Config;
  sql: Sql;
  redis: RedisClient;
  blocking: RedisClient;
  /** Statements sent to PostgreSQL since the last resetCount(). */
  queryCount(): number;
  resetCount(): void;
  /** Empties every table and the test Redis database. */
  reset(): Promise<void>;
  /** Empties the test Redis database (every node of a test cluster). */
  flushRedis(): Promise<void>;
  /** Every key of the test Redis (of every node of a test cluster). */
  redisKeys(): Promise<string[]>;
  makeUser(handle?: string, opts?: { seeded?: boolean }): Promise<UserRow & { token: string }>;
  /** A post as the write model holds it, without its event (a test that needs one posts through the api). */
  makePost(author: Ref, overrides?: { text?: string }): Promise<PostRow & { created_at: Date }>;
  /** `follower` follows `followee`: the follows and active_follows rows, without the event. */
  follow(follower: Ref, followee: Ref, overrides?: { createdAt?: Date }): Promise<void>;
  /** `user` likes `post`: the likes row, without the event (so no count moves). */
  like(user: Ref, post: Ref): Promise<void>;
  /** Runs before close(): a consumer left running would steal the next suite's entries. */
  onClose(fn: () => Promise<void>): void;
  close(): Promise<void>;
}

/** Config for tests: the test database and Redis database replace the development ones. */
export function loadTestConfig(overrides: Record<string, string | undefined> = {}): Config {
  const env = processEnv();
  const base = parseConfig({ ...env, NODE_ENV: "test" });
  return parseConfig({
    ...env,
    NODE_ENV: "test",
    DATABASE_URL: base.TEST_DATABASE_URL,
    REDIS_URL: base.TEST_REDIS_URL,
    // A development cluster is never the tests' (they flush it): only TEST_REDIS_CLUSTER_NODES.
    REDIS_CLUSTER_NODES: env.TEST_REDIS_CLUSTER_NODES,
    ...overrides,
  });
}

/**
 * The environment of an api or projector process a test spawns: this process's, with the test
 * config's database and Redis (the test cluster when the suite runs on one), no S3, no
 * load-test signer, plus `extra`.
 */
export function testChildEnv(
  config: Config,
  extra: Record<string, string>,
): Record<string, string | undefined> {
  const env = processEnv();
  return {
    ...env,
    DATABASE_URL: config.DATABASE_URL,
    REDIS_URL: config.REDIS_URL,
    REDIS_CLUSTER_NODES: env.TEST_REDIS_CLUSTER_NODES ?? "",
    S3_ENDPOINT: "",
    LOAD_TEST_SECRET: "",
    HOST: "127.0.0.1",
    METRICS_PORT: "0",
    ...extra,
  };
}

/** A user or post, or its id. */
type Ref = string | { id: string };
const idOf = (r: Ref) => (typeof r === "string" ? r : r.id);

let seq = 0;

/** A latch a test handler (or a held transaction) waits on until the test opens it. */
export function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => {
    open = r;
  });
  return { wait, open };
}

export async function waitFor(
  cond: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
  what = "condition",
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await Bun.sleep(20);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export async function openTestDb(overrides: Record<string, string> = {}): Promise<TestDb> {
  const config = loadTestConfig(overrides);
  if (!/test/.test(new URL(config.DATABASE_URL).pathname)) {
    throw new Error(
      `refusing to run integration tests against ${config.DATABASE_URL}: its name must contain "test"`,
    );
  }
  let count = 0;
  const sql = createSql({ url: config.DATABASE_URL, max: 8, onQuery: () => count++ });
  await migrate(sql);
  const redis = createRedis(config, "feed-test");
  const blocking = createBlockingRedis(config, "feed-test-blocking");
  const cleanups: (() => Promise<void>)[] = [];
  // A test cluster (TEST_REDIS_CLUSTER_NODES) is flushed and listed node by node.
  const nodes = () => (isCluster(redis) ? redis.nodes("master") : [redis]);
  const flushRedis = async () => {
    await Promise.all(nodes().map((n) => n.flushdb()));
  };
  return {
    config,
    sql,
    redis,
    blocking,
    queryCount: () => count,
    resetCount: () => {
      count = 0;
    },
    async reset() {
      const tables = await sql<{ tablename: string }[]>`
        SELECT tablename FROM pg_tables
        WHERE schemaname = 'public' AND tablename <> 'schema_migrations' AND tablename NOT LIKE '%\\_p__'`;
      await sql`TRUNCATE ${sql(tables.map((t) => t.tablename))}`;
      await flushRedis();
    },
    flushRedis,
    async redisKeys() {
      return (await Promise.all(nodes().map((n) => n.keys("*")))).flat();
    },
    async makeUser(handle?: string, opts: { seeded?: boolean } = {}) {
      const h = handle ?? `user_${process.pid}_${++seq}_${Math.floor(Math.random() * 1e6)}`;
      const user = await insertUser(sql, {
        shard: randomShard(),
        handle: h.slice(0, 30),
        display_name: h,
        seeded: opts.seeded,
      });
      const { token } = await signAccessToken(config, user.id);
      return { ...user, token };
    },
    makePost: (author, o = {}) => insertPost(sql, idOf(author), o.text ?? `post ${++seq}`),
    async follow(follower, followee, o = {}) {
      await insertFollow(sql, idOf(follower), idOf(followee));
      // Backdated: tests of what becomes of old follows.
      if (o.createdAt)
        await sql`UPDATE follows SET created_at = ${o.createdAt}
                  WHERE follower_id = ${idOf(follower)} AND followee_id = ${idOf(followee)}`;
    },
    async like(user, post) {
      await insertLike(sql, idOf(user), idOf(post));
    },
    onClose(fn) {
      cleanups.push(fn);
    },
    async close() {
      for (const fn of cleanups.splice(0)) await fn().catch(() => {});
      blocking.disconnect();
      redis.disconnect();
      await sql.end({ timeout: 5 });
    },
  };
}

/** A port nothing listens on right now, for a process a test starts. */
export function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

/**
 * A redis-server of a suite's own, to kill (SIGKILL) or hang (SIGSTOP) without touching the
 * shared test Redis: on a free port, with no persistence. `start` (again after a kill) resolves
 * once it answers PING; `stop` resumes and kills it and removes its directory.
 */
export function privateRedis(): {
  url: string;
  server(): Subprocess;
  start(): Promise<void>;
  stop(): void;
} {
  const port = freePort();
  const dir = mkdtempSync(join(tmpdir(), "feed-private-redis-"));
  let server: Subprocess | null = null;
  const url = `redis://127.0.0.1:${port}/0`;
  return {
    url,
    server: () => server!,
    async start() {
      server = Bun.spawn(
        ["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", ""],
        { stdout: "ignore", stderr: "ignore" },
      );
      const probe = createRedis({ REDIS_URL: url }, "feed-test-probe");
      probe.on("error", () => {});
      const pong = () =>
        probe.ping().then(
          (p) => p === "PONG",
          () => false,
        );
      await waitFor(pong, 10_000, "redis-server");
      probe.disconnect();
    },
    stop() {
      server?.kill("SIGCONT");
      server?.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Holds an EXCLUSIVE lock on `table` (reads go on, every write waits) until release(): the way
 * a test keeps a request or an event handler in flight in another process. ACCESS EXCLUSIVE
 * stops reads too.
 */
export async function holdTableLock(
  sql: Sql,
  table: string,
  mode: "EXCLUSIVE" | "ACCESS EXCLUSIVE" = "EXCLUSIVE",
): Promise<{ release(): Promise<void> }> {
  const held = gate();
  const locked = gate();
  const holder = sql.begin(async (tx) => {
    if (mode === "EXCLUSIVE") await tx`LOCK TABLE ${tx(table)} IN EXCLUSIVE MODE`;
    else await tx`LOCK TABLE ${tx(table)} IN ACCESS EXCLUSIVE MODE`;
    locked.open();
    await held.wait;
  });
  await locked.wait;
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      held.open();
      await holder;
    },
  };
}

/** Whether some backend of this database waits on a lock in a statement matching `pattern`. */
export async function waitsOnLock(sql: Sql, pattern: string): Promise<boolean> {
  const [row] = await sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE ${pattern}`;
  return row!.n > 0;
}

/** The environment of an api or projector process a test spawns (testChildEnv above). */
export function childEnv(db: TestDb, extra: Record<string, string>): Record<string, string | undefined> {
  return testChildEnv(db.config, extra);
}
