import { createHash } from "node:crypto";
import { tracingChannel } from "node:diagnostics_channel";
import { Cluster, Redis } from "ioredis";

export type { Cluster, Redis };

// ioredis traces a command only when its tracing channel has subscribers, asking
// `hasSubscribers`, which Bun's TracingChannel lacks (undefined, taken as "maybe"): every command
// then built a trace context and a wrapper promise for nobody, 2% of a cached read's CPU. The
// getter Node has, from the channel's five sub-channels.
const tracingProto = Object.getPrototypeOf(tracingChannel("feed:probe")) as object;
if (!("hasSubscribers" in tracingProto)) {
  Object.defineProperty(tracingProto, "hasSubscribers", {
    get(this: Record<"start" | "end" | "asyncStart" | "asyncEnd" | "error", { hasSubscribers: boolean }>) {
      return (
        this.start.hasSubscribers ||
        this.end.hasSubscribers ||
        this.asyncStart.hasSubscribers ||
        this.asyncEnd.hasSubscribers ||
        this.error.hasSubscribers
      );
    },
  });
}

/**
 * What every service takes: one standalone Redis, or a Redis Cluster. Code that sends a command
 * naming several keys goes through the helpers below, which keep one round-trip on a standalone
 * Redis and split by hash slot on a cluster (a multi-key command across slots is CROSSSLOT there).
 */
export type RedisClient = Redis | Cluster;

/** Where Redis is: REDIS_CLUSTER_NODES wins when set (a Config satisfies this). */
export interface RedisTarget {
  REDIS_URL: string;
  REDIS_CLUSTER_NODES?: readonly { host: string; port: number }[] | undefined;
  /** Unset: commands wait as long as the connection stays up (tools, tests). */
  REDIS_COMMAND_TIMEOUT_MS?: number | undefined;
}

const reconnect = (times: number) => Math.min(50 * 2 ** times, 2000);

/**
 * A Redis connection. Commands wait for a reconnect rather than fail at once, but not
 * forever: a request in flight while Redis is down fails within a couple of seconds.
 * Auto-pipelining batches concurrent commands into one write (per node, on a cluster): the
 * cluster paths below rely on it to turn per-slot commands into one round-trip per node.
 * A Redis that hangs without closing the connection is cut off by REDIS_COMMAND_TIMEOUT_MS.
 */
export function createRedis(
  target: RedisTarget,
  name: string,
  opts: { failFast?: boolean } = {},
): RedisClient {
  const commandTimeout = target.REDIS_COMMAND_TIMEOUT_MS;
  if (target.REDIS_CLUSTER_NODES?.length) {
    return new Cluster([...target.REDIS_CLUSTER_NODES], {
      enableAutoPipelining: true,
      clusterRetryStrategy: reconnect,
      redisOptions: { connectionName: name, maxRetriesPerRequest: 2, commandTimeout },
    });
  }
  const redis = new Redis(target.REDIS_URL, {
    connectionName: name,
    maxRetriesPerRequest: 2,
    commandTimeout,
    enableAutoPipelining: true,
    lazyConnect: false,
    retryStrategy: reconnect,
  });
  if (opts.failFast) {
    // Once connected, a command sent while the connection is down fails at once rather than
    // queueing for the reconnect: a request answers 503 now instead of after every one of its
    // Redis calls has waited out its retries. (Before the first connection commands do queue,
    // so a process starting beside Redis does not fail its first requests.)
    redis.once("ready", () => {
      redis.options.enableOfflineQueue = false;
    });
  }
  return redis;
}

/**
 * A dedicated connection for the consumers' reads: XREADGROUP BLOCK on a standalone Redis,
 * which would stall every other command on a shared connection. (On a cluster consumers poll
 * without blocking, see projector/consumer.ts, but still on a client of their own.)
 */
export function createBlockingRedis(target: RedisTarget, name: string): RedisClient {
  if (target.REDIS_CLUSTER_NODES?.length) {
    return new Cluster([...target.REDIS_CLUSTER_NODES], {
      enableAutoPipelining: false,
      clusterRetryStrategy: reconnect,
      redisOptions: { connectionName: name, maxRetriesPerRequest: null },
    });
  }
  return new Redis(target.REDIS_URL, {
    connectionName: name,
    maxRetriesPerRequest: null,
    enableAutoPipelining: false,
    retryStrategy: reconnect,
  });
}

export function isCluster(redis: RedisClient): redis is Cluster {
  return redis instanceof Cluster;
}

/** A new client with the same target and options (a second consumer's read connection). */
export function duplicateRedis(redis: RedisClient): RedisClient {
  return isCluster(redis) ? redis.duplicate() : redis.duplicate();
}

export async function pingRedis(redis: RedisClient, timeoutMs = 1000): Promise<boolean> {
  const timeout = new Promise<false>((r) => setTimeout(() => r(false), timeoutMs));
  const ping = redis.ping().then(
    (r) => r === "PONG",
    () => false,
  );
  return Promise.race([ping, timeout]);
}

// ---------------------------------------------------------------- hash slots

// CRC16/XMODEM, the checksum Redis Cluster hashes keys with (cluster spec, "Keys distribution
// model"); checked against the server's CLUSTER KEYSLOT in the cluster test. Not the
// cluster-key-slot package (ioredis' own): it hashes "{bar" for "foo{}{bar}", where the server
// hashes the whole key (an empty first tag means no tag), and the cluster test caught it.
const CRC16 = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let c = i << 8;
  for (let b = 0; b < 8; b++) c = c & 0x8000 ? (c << 1) ^ 0x1021 : c << 1;
  CRC16[i] = c & 0xffff;
}

/** The cluster hash slot of a key: of its {tag} when it has a non-empty one, else of all of it. */
export function slotOf(key: string): number {
  let bytes = Buffer.from(key);
  const open = bytes.indexOf(0x7b); // {
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1); // }
    if (close > open + 1) bytes = bytes.subarray(open + 1, close);
  }
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) ^ CRC16[((crc >> 8) ^ byte) & 0xff]!) & 0xffff;
  return crc & 16383;
}

/** Items grouped by the slot of their key, groups and members in first-seen order. */
export function groupBySlot<T>(items: readonly T[], keyOf: (item: T) => string): T[][] {
  const groups = new Map<number, T[]>();
  for (const it of items) {
    const slot = slotOf(keyOf(it));
    const g = groups.get(slot);
    if (g) g.push(it);
    else groups.set(slot, [it]);
  }
  return [...groups.values()];
}

// ---------------------------------------------------------------- multi-key work

/** MGET of any keys: one MGET standalone; on a cluster one per slot, all at once. */
export async function mgetMany(redis: RedisClient, keys: readonly string[]): Promise<(string | null)[]> {
  if (keys.length === 0) return [];
  if (!isCluster(redis)) return redis.mget(...keys);
  const out: (string | null)[] = new Array(keys.length).fill(null);
  const groups = groupBySlot(
    keys.map((key, i) => ({ key, i })),
    (k) => k.key,
  );
  await Promise.all(
    groups.map(async (g) => {
      const values = await redis.mget(...g.map((k) => k.key));
      g.forEach((k, j) => {
        out[k.i] = values[j] ?? null;
      });
    }),
  );
  return out;
}

export type RedisCommand = [name: string, ...args: (string | number)[]];

/**
 * mgetMany and independent single-key commands in one round-trip: sent in the same tick, so
 * auto-pipelining (createRedis) writes them together, with whatever concurrent requests send
 * meanwhile (an explicit pipeline would be a write of its own); on a cluster, one write per node.
 * The MGET's failure is thrown; the commands answer [error, reply] pairs, as runCommands does.
 */
export async function mgetManyWith(
  redis: RedisClient,
  keys: readonly string[],
  commands: readonly RedisCommand[],
): Promise<{ values: (string | null)[]; replies: [Error | null, unknown][] }> {
  const [values, replies] = await Promise.all([
    mgetMany(redis, keys),
    Promise.all(
      commands.map(([name, ...args]) =>
        redis.call(name, ...args).then(
          (reply): [Error | null, unknown] => [null, reply],
          (e): [Error | null, unknown] => [e as Error, null],
        ),
      ),
    ),
  ]);
  return { values, replies };
}

/**
 * Independent single-key commands, answered in order as [error, reply] pairs (a pipeline's
 * shape). Standalone: one pipeline. Cluster: a pipeline may not span nodes, so each command is
 * sent on its own, all at once, and auto-pipelining groups them into one write per node.
 * Neither is atomic; callers that need atomicity keep their keys in one slot and use MULTI.
 */
export async function runCommands(
  redis: RedisClient,
  commands: readonly RedisCommand[],
): Promise<[Error | null, unknown][]> {
  if (commands.length === 0) return [];
  if (!isCluster(redis))
    return ((await redis.pipeline(commands as unknown as string[][]).exec()) ?? []) as [
      Error | null,
      unknown,
    ][];
  return Promise.all(
    commands.map(([name, ...args]) =>
      redis.call(name, ...args).then(
        (reply): [Error | null, unknown] => [null, reply],
        (e): [Error | null, unknown] => [e as Error, null],
      ),
    ),
  );
}

/** Throws the first error of a runCommands answer. */
export function throwFirstError(results: readonly [Error | null, unknown][]): void {
  const failed = results.find(([err]) => err);
  if (failed) throw failed[0];
}

export interface LuaScript {
  lua: string;
  sha: string;
}

export function luaScript(lua: string): LuaScript {
  return { lua, sha: createHash("sha1").update(lua).digest("hex") };
}

/**
 * EVALSHA, loading the script with EVAL when the server does not know it (a restart, a new
 * node): on a cluster a fan-out sends one call per slot, so the script's text is not resent
 * with each. All its keys must share a slot on a cluster.
 */
export async function runScript(
  redis: RedisClient,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await redis.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (e) {
    if (!String(e).includes("NOSCRIPT")) throw e;
    return redis.eval(script.lua, keys.length, ...keys, ...args);
  }
}
