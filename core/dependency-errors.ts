// Which backing service an unexpected error came from, when it is an outage rather than a bug:
// the api answers those with 503 problem+json and Retry-After (the client may retry; nothing
// about its request was wrong), everything else stays a 500. Matched on the drivers' own error
// codes and names, never on free text where a code exists.

export type Dependency = "PostgreSQL" | "Redis" | "S3" | "a backing service";

/** A service's `host:port`, to name the service behind a bare socket error. */
export interface KnownAddress {
  address: string;
  name: Dependency;
}

/** The addresses of the services a config names (DATABASE_URL, S3_ENDPOINT). */
export function knownAddresses(c: {
  DATABASE_URL: string;
  S3_ENDPOINT?: string | undefined;
}): KnownAddress[] {
  const out: KnownAddress[] = [];
  const add = (url: string | undefined, name: Dependency, defaultPort: string) => {
    if (!url) return;
    try {
      const u = new URL(url);
      out.push({ address: `${u.hostname}:${u.port || defaultPort}`, name });
    } catch {}
  };
  add(c.DATABASE_URL, "PostgreSQL", "5432");
  add(c.S3_ENDPOINT, "S3", c.S3_ENDPOINT?.startsWith("https:") ? "443" : "80");
  return out;
}

// postgres.js's own connection errors.
const PG_CONNECTION_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
]);

// Socket errors, which postgres.js and the S3 client pass through as they are.
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
]);

// SQLSTATEs of a server going away or not there yet: class 08 (connection exception), 57P01
// admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now, 57014 query canceled (a
// statement timeout), 53300 too many connections.
const PG_OUTAGE_STATES = /^(08...|57P0[123]|57014|53300)$/;

// ioredis: a command that could not be sent within maxRetriesPerRequest reconnects, a command
// that got no answer within commandTimeout, a connection closed under a command.
const REDIS_OUTAGE_MESSAGES = [
  "Command timed out",
  "Connection is closed.",
  "Stream isn't writeable",
  "Reached the max retries per request limit",
];

export function dependencyOf(err: unknown, known: readonly KnownAddress[] = []): Dependency | null {
  if (!err || typeof err !== "object") return null;
  const e = err as { name?: unknown; code?: unknown; message?: unknown };
  const name = typeof e.name === "string" ? e.name : "";
  const code = typeof e.code === "string" ? e.code : "";
  const message = typeof e.message === "string" ? e.message : "";
  if (name === "PostgresError") return PG_OUTAGE_STATES.test(code) ? "PostgreSQL" : null;
  if (name === "MaxRetriesPerRequestError" || REDIS_OUTAGE_MESSAGES.some((m) => message.startsWith(m)))
    return "Redis";
  if (PG_CONNECTION_CODES.has(code)) return "PostgreSQL";
  if (SOCKET_CODES.has(code))
    return known.find((k) => message.includes(k.address))?.name ?? "a backing service";
  return null;
}

/**
 * Whether PostgreSQL itself is unreachable or going away (not one slow statement hitting its
 * timeout, nor too many connections for a moment): what should make the api stop sending it
 * requests for a while.
 */
export function isPostgresUnreachable(err: unknown, known: readonly KnownAddress[] = []): boolean {
  if (dependencyOf(err, known) !== "PostgreSQL") return false;
  const code = (err as { code?: unknown }).code;
  return code !== "57014" && code !== "53300";
}
