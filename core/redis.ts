import { Redis } from "ioredis";

export type { Redis };

/**
 * A Redis connection. Commands wait for a reconnect rather than fail at once, but not
 * forever: a request in flight while Redis is down fails within a couple of seconds.
 */
export function createRedis(url: string, name: string): Redis {
  return new Redis(url, {
    connectionName: name,
    maxRetriesPerRequest: 2,
    enableAutoPipelining: true,
    lazyConnect: false,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
  });
}

/** A dedicated connection for blocking reads (XREADGROUP BLOCK), which would stall others. */
export function createBlockingRedis(url: string, name: string): Redis {
  return new Redis(url, {
    connectionName: name,
    maxRetriesPerRequest: null,
    enableAutoPipelining: false,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
  });
}

export async function pingRedis(redis: Redis, timeoutMs = 1000): Promise<boolean> {
  const timeout = new Promise<false>((r) => setTimeout(() => r(false), timeoutMs));
  const ping = redis.ping().then(
    (r) => r === "PONG",
    () => false,
  );
  return Promise.race([ping, timeout]);
}
