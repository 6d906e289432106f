// Which backing service an unexpected error came from, when it is an outage rather than a bug:
// the api answers those with 503 problem+json and Retry-After (the client may retry; nothing
// about its request was wrong), everything else stays a 500. Matched on the drivers' own error
// codes and names, never on free text where a code exists.

export type Dependency = "PostgreSQL" | "Redis" | "a backing service";

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

export function dependencyOf(err: unknown): Dependency | null {
  if (!err || typeof err !== "object") return null;
  const e = err as { name?: unknown; code?: unknown; message?: unknown };
  const name = typeof e.name === "string" ? e.name : "";
  const code = typeof e.code === "string" ? e.code : "";
  const message = typeof e.message === "string" ? e.message : "";
  if (name === "PostgresError") return PG_OUTAGE_STATES.test(code) ? "PostgreSQL" : null;
  if (name === "MaxRetriesPerRequestError" || REDIS_OUTAGE_MESSAGES.some((m) => message.startsWith(m)))
    return "Redis";
  if (PG_CONNECTION_CODES.has(code)) return "PostgreSQL";
  if (SOCKET_CODES.has(code)) return "a backing service";
  return null;
}
