import { join } from "node:path";
import { type Config, parseConfig } from "../../core/config.ts";
import { randomShard } from "../../core/ids.ts";
import { readCompleteLikedSet } from "../../core/liked-set.ts";
import { createRedis, type RedisClient } from "../../core/redis.ts";
import { signAccessToken } from "../../core/tokens.ts";
import { createSql, type Sql } from "../../db/client.ts";
import { migrate } from "../../db/migrate.ts";
import { unpublishedCount } from "../../db/outbox.ts";
import { likedPostsOf, reconcile } from "../../db/reconcile.ts";
import { insertUser } from "../../db/users.ts";
import { listDeadLetters } from "../../projector/dlq.ts";
import { portInUse, redisCli, Stack } from "../cluster/stack.ts";
import { backlogOf, mustDrain } from "../lib/drain.ts";
import { limited } from "../lib/pool.ts";
import { rng } from "../lib/prng.ts";
import { ChaosLoad, type ChaosUser } from "./load.ts";
import { PgServer } from "./pg-server.ts";

// The stack the chaos and soak runs drive: PostgreSQL and Redis (appendonly, noeviction) of
// their own, one api and one projector under a supervisor, all on loopback and all children of
// this process; 40 users, a celebrity everyone follows (a pull author above the threshold) and
// a poison author half of them follow; each user follows ~8 others, so some authors pass
// FANOUT_INLINE_MAX (the fan-out lane) and the rest are pushed inline; and the load generator.

export const DEFAULT_PORTS = { pg: 55462, redis: 7301, api: 3301, projector: 9301 };

export interface StackOptions {
  dir: string;
  rate: number;
  seed: number;
  ports?: typeof DEFAULT_PORTS;
  /** Settings over the run's own (the soak shortens cache TTLs, for one). */
  env?: Record<string, string>;
  /** The load's bound on each user's likes (LoadOptions.likesPerUser). */
  likesPerUser?: number;
  log?: (msg: string) => void;
}

export interface ChaosStack {
  stack: Stack;
  pg: PgServer;
  sv: Supervisor;
  load: ChaosLoad;
  sql: Sql;
  redis: RedisClient;
  config: Config;
  env: Record<string, string>;
  runId: string;
  users: ChaosUser[];
  celebrity: ChaosUser;
  poison: ChaosUser;
  apiUrl: string;
  projectorUrl: string;
  redisPort: number;
  rnd: () => number;
  /** Mints fresh access tokens for every user (they live 15 minutes at most). */
  refreshTokens(): Promise<void>;
  close(): Promise<void>;
}

/** Restarts the api or projector when it exits, as a process manager would. */
export class Supervisor {
  readonly restarts = new Map<string, number>();
  private stopping = false;
  private readonly specs = new Map<string, { entry: string; env: Record<string, string>; ready: string }>();

  constructor(private readonly stack: Stack) {}

  async start(name: string, entry: string, env: Record<string, string>, ready: string): Promise<void> {
    this.specs.set(name, { entry, env, ready });
    await this.launch(name);
  }

  private async launch(name: string): Promise<void> {
    const spec = this.specs.get(name)!;
    for (let attempt = 1; ; attempt++) {
      try {
        const p = await this.stack.startService(name, spec.entry, spec.env, spec.ready);
        void p.proc.exited.then(() => {
          if (this.stopping) return;
          this.restarts.set(name, (this.restarts.get(name) ?? 0) + 1);
          setTimeout(() => void this.launch(name), 300);
        });
        return;
      } catch (e) {
        if (this.stopping || attempt >= 5) throw e;
        await Bun.sleep(1000);
      }
    }
  }

  pid(name: string): number | undefined {
    const p = this.stack.get(name);
    return p && p.proc.exitCode === null && p.proc.signalCode === null ? p.proc.pid : undefined;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.restarts);
  }

  async stopAll(): Promise<void> {
    this.stopping = true;
    await this.stack.stop([...this.specs.keys()]);
  }
}

export async function getStatus(
  url: string,
  timeoutMs: number,
): Promise<{ status: number; problem: boolean } | "hung" | "refused"> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    const problem =
      (res.headers.get("content-type") ?? "").startsWith("application/problem+json") &&
      (JSON.parse(body || "{}") as { status?: number }).status === res.status;
    return { status: res.status, problem };
  } catch (e) {
    const name = (e as Error)?.name;
    return name === "TimeoutError" || name === "AbortError" ? "hung" : "refused";
  }
}

export async function waitRedis(port: number): Promise<void> {
  const end = Date.now() + 20_000;
  while (Date.now() < end) {
    if (redisCli(port, "ping") === "PONG") return;
    await Bun.sleep(100);
  }
  throw new Error(`redis :${port} did not come back`);
}

/** Until the projector has handled everything and the outbox is all published; the ms it took. */
export async function waitDrained(
  c: Pick<ChaosStack, "redis" | "sql" | "config">,
  timeoutMs: number,
): Promise<number> {
  const read = async () => ({
    ...(await backlogOf(c.redis, c.sql, c.config.STREAM_PARTITIONS)),
    unpublished: await unpublishedCount(c.sql),
  });
  return mustDrain(
    read,
    { timeoutMs, intervalMs: 200, retryErrors: true },
    "not drained after the load stopped",
  );
}

/** `./dev reconcile`'s figures for the stack, DLQ included (after waitDrained, all should be 0). */
export async function reconcileStack(c: Pick<ChaosStack, "redis" | "sql" | "config" | "users">) {
  const rec = await reconcile(c.sql, {
    feedMaxItems: c.config.FEED_MAX_ITEMS,
    pullThreshold: c.config.FANOUT_PULL_THRESHOLD,
    activeDays: c.config.FEED_ACTIVE_DAYS,
    unpublishedAfterMs: 2 * (c.config.SWEEP_INTERVAL_MS + c.config.OUTBOX_GRACE_MS),
  });
  const liked = await staleLikedSets(c);
  return {
    ...rec,
    dlq: (await listDeadLetters(c.redis, 1000)).length,
    stale_liked: liked.stale,
    liked_sets_checked: liked.checked,
  };
}

/**
 * Users whose cached liked set is complete (trusted for liked_by_me) but differs from their
 * likes rows: the cache a fully cached page answers from, checked like the read model.
 */
export async function staleLikedSets(
  c: Pick<ChaosStack, "redis" | "sql" | "users">,
): Promise<{ checked: number; stale: number }> {
  const truth = await likedPostsOf(
    c.sql,
    c.users.map((u) => u.id),
  );
  let stale = 0;
  let checked = 0;
  for (const u of c.users) {
    const cached = await readCompleteLikedSet(c.redis, u.id);
    if (!cached) continue;
    checked++;
    const rows = truth.get(u.id) ?? new Set<string>();
    if (cached.size !== rows.size || [...rows].some((p) => !cached.has(p))) stale++;
  }
  return { checked, stale };
}

export async function bootStack(o: StackOptions): Promise<ChaosStack> {
  const log = o.log ?? (() => {});
  const ports = o.ports ?? DEFAULT_PORTS;
  for (const [what, port] of Object.entries(ports))
    if (await portInUse(port))
      throw new Error(
        `port ${port} (${what}) is already in use: another chaos or soak run, or something else; stop it first`,
      );
  const stack = new Stack(o.dir);
  const pg = new PgServer(o.dir, ports.pg);
  const sv = new Supervisor(stack);
  const runId = `${Date.now().toString(36)}`;
  const env: Record<string, string> = {
    NODE_ENV: "development",
    LOG_LEVEL: "warn",
    DATABASE_URL: pg.url("feed_chaos"),
    DATABASE_POOL_SIZE: "8",
    REDIS_URL: `redis://127.0.0.1:${ports.redis}/0`,
    REDIS_COMMAND_TIMEOUT_MS: "1000",
    PORT: String(ports.api),
    PROJECTOR_METRICS_PORT: String(ports.projector),
    // Nobody scrapes these apis: any free port, never a running stack's.
    METRICS_PORT: "0",
    PUBLIC_URL: `http://127.0.0.1:${ports.api}`,
    JWT_SECRET: "chaos-only-secret-0123456789abcdef-0123456789",
    STREAM_PARTITIONS: "4",
    CLAIM_TIMEOUT_MS: "3000",
    RETRY_BASE_MS: "100",
    RETRY_MAX_MS: "1000",
    MAX_DELIVERIES: "4",
    SWEEP_INTERVAL_MS: "500",
    OUTBOX_GRACE_MS: "1500",
    FANOUT_PULL_THRESHOLD: "30",
    FANOUT_INLINE_MAX: "10",
    RATE_LIMIT_READS_PER_MINUTE: "0",
    RATE_LIMIT_WRITES_PER_MINUTE: "0",
    RATE_LIMIT_AUTH_PER_MINUTE: "0",
    FAULT_CRASH_AFTER_COMMIT_FILE: join(o.dir, "crash-after-commit"),
    // No media in these runs: thumbnails have their own group and tests.
    S3_ENDPOINT: "",
    LOAD_TEST_SECRET: "",
    ...(o.env ?? {}),
  };
  const config = parseConfig(env);
  let sql: Sql | null = null;
  let redis: RedisClient | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    // PostgreSQL runs detached (pg_ctl) and outlives us unless stopped: clean up, then go.
    log(`${signal}: stopping the stack`);
    void close().finally(() => process.exit(130));
  };
  const close = async () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await sv.stopAll().catch(() => {});
    redis?.disconnect();
    await sql?.end({ timeout: 2 }).catch(() => {});
    await stack.stop().catch(() => {});
    try {
      if (pg.running()) pg.stop("fast");
    } catch {}
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    log(
      `stack: PostgreSQL :${ports.pg}, Redis :${ports.redis}, api :${ports.api}, projector :${ports.projector} (${o.dir})`,
    );
    pg.init();
    pg.start();
    pg.createDatabase("feed_chaos");
    sql = createSql({ url: env.DATABASE_URL!, max: 4 });
    await migrate(sql);
    stack.startRedis([ports.redis], { cluster: false });
    await waitRedis(ports.redis);
    redis = createRedis(config, "feed-chaos");
    redis.on("error", () => {});
    await sv.start("api", "api/main.ts", env, `http://127.0.0.1:${ports.api}/ready`);
    await sv.start("projector", "projector/main.ts", env, `http://127.0.0.1:${ports.projector}/ready`);

    const rnd = rng(o.seed);
    const db = sql;
    const make = async (i: number): Promise<ChaosUser> => {
      const u = await insertUser(db, {
        shard: randomShard(),
        handle: `x${runId}_${i}`.slice(0, 30),
        display_name: `chaos ${i}`,
      });
      return { id: u.id, token: (await signAccessToken(config, u.id)).token };
    };
    const users: ChaosUser[] = [];
    for (let i = 0; i < 40; i++) users.push(await make(i));
    const celebrity = await make(100);
    const poison = await make(101);
    const load = new ChaosLoad({
      base: `http://127.0.0.1:${ports.api}`,
      users,
      celebrity,
      rate: o.rate,
      runId,
      seed: o.seed,
      timeoutMs: 10_000,
      likesPerUser: o.likesPerUser,
    });
    const follows: [ChaosUser, ChaosUser][] = [];
    for (const u of users) {
      follows.push([u, celebrity]);
      if (rnd() < 0.5) follows.push([u, poison]);
      for (let k = 0; k < 8; k++) {
        const v = users[Math.floor(rnd() * users.length)]!;
        if (v !== u) follows.push([u, v]);
      }
    }
    await limited(follows, 8, async ([u, v]) => {
      const res = await fetch(`http://127.0.0.1:${ports.api}/follows`, {
        method: "POST",
        headers: { authorization: `Bearer ${u.token}`, "content-type": "application/json" },
        body: JSON.stringify({ user_id: v.id }),
      });
      if (res.status !== 201 && res.status !== 200)
        throw new Error(`setup follow answered ${res.status}: ${await res.text()}`);
    });
    const c: ChaosStack = {
      stack,
      pg,
      sv,
      load,
      sql,
      redis,
      config,
      env,
      runId,
      users,
      celebrity,
      poison,
      apiUrl: `http://127.0.0.1:${ports.api}`,
      projectorUrl: `http://127.0.0.1:${ports.projector}`,
      redisPort: ports.redis,
      rnd,
      async refreshTokens() {
        for (const u of [...users, celebrity, poison]) u.token = (await signAccessToken(config, u.id)).token;
      },
      close,
    };
    await waitDrained(c, 60_000);
    log(`setup: ${users.length + 2} users, ${follows.length} follows; load ${o.rate} req/s`);
    return c;
  } catch (e) {
    await close();
    throw e;
  }
}
