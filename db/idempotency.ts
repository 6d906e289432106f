import type postgres from "postgres";
import type { AnySql, Tx } from "./client.ts";

export interface StoredResponse {
  fingerprint: string;
  status: number;
  response: unknown;
}

/**
 * Takes the transaction-scoped lock of one (user, route, key). False means another transaction
 * holds it: the first request with this key is still running.
 */
export async function tryLockKey(tx: Tx, userId: string, route: string, key: string): Promise<boolean> {
  const [row] = await tx<{ locked: boolean }[]>`
    SELECT pg_try_advisory_xact_lock(hashtextextended(${lockName(userId, route, key)}, 0)) AS locked`;
  return row!.locked;
}

function lockName(userId: string, route: string, key: string): string {
  return `${userId}\n${route}\n${key}`;
}

/** An Idempotency-Key to claim with a command's statement, and what to store under it. */
export interface KeyClaim {
  userId: string;
  route: string;
  key: string;
  fingerprint: string;
  ttlHours: number;
}

/** What a claimed statement did: ran (`row` is its result, if it had one), or why it did not. */
export type ClaimOutcome<R> =
  | { kind: "done"; row: R | undefined }
  /** Another transaction holds the key: the first request with it is still running. */
  | { kind: "busy" }
  | { kind: "stored"; stored: StoredResponse }
  /** An expired row holds the key (the purge is periodic): delete it, then run again. */
  | { kind: "expired" }
  /** The key's first request committed after this statement's snapshot: read its answer now. */
  | { kind: "raced" };

/**
 * A command in one statement, so one round trip and one implicit transaction: the key's lock,
 * its lookup, the command's writes and the stored answer. `ctes` continues the WITH list after
 * `go`, a one-row relation present only while the command may run (no key, or the key locked
 * and unused). Each write joins `go`, and the last CTE, `result`, gives at most one row with
 * the answer's `status` and `body` and the command's own columns.
 *
 * The stored answer is a plain INSERT: if the key's first request commits between this
 * statement's snapshot and its insert, the unique key aborts the whole statement ("raced"), so
 * the command's writes never happen twice.
 */
export async function runClaimed<R extends object>(
  sql: AnySql,
  claim: KeyClaim | null,
  ctes: postgres.PendingQuery<postgres.Row[]>,
): Promise<ClaimOutcome<R>> {
  const c = claim;
  try {
    const [row] = await sql<(R & ClaimColumns)[]>`
      WITH lock AS MATERIALIZED (
        SELECT ${c ? sql`pg_try_advisory_xact_lock(hashtextextended(${lockName(c.userId, c.route, c.key)}, 0))` : sql`true`} AS ok
      ), found AS MATERIALIZED (
        SELECT fingerprint, status, response, expires_at <= now() AS expired FROM idempotency_keys
        WHERE ${c ? sql`user_id = ${c.userId} AND route = ${c.route} AND key = ${c.key}` : sql`false`}
      ), go AS MATERIALIZED (
        SELECT 1 AS go FROM lock WHERE ok AND NOT EXISTS (SELECT 1 FROM found)
      ), ${ctes}${
        c
          ? sql`, claim AS (
        INSERT INTO idempotency_keys (user_id, route, key, fingerprint, status, response, expires_at)
        SELECT ${c.userId}, ${c.route}, ${c.key}, ${c.fingerprint}, r.status, r.body,
               now() + make_interval(hours => ${c.ttlHours})
        FROM result r, go)`
          : sql``
      }
      SELECT l.ok AS claim_locked, f.fingerprint AS claim_fingerprint, f.status AS claim_status,
             f.response AS claim_response, f.expired AS claim_expired, r.*
      FROM lock l LEFT JOIN found f ON true LEFT JOIN result r ON true`;
    const r = row!;
    if (!r.claim_locked) return { kind: "busy" };
    if (r.claim_expired) return { kind: "expired" };
    if (r.claim_fingerprint !== null)
      return {
        kind: "stored",
        stored: { fingerprint: r.claim_fingerprint, status: r.claim_status!, response: r.claim_response },
      };
    const { claim_locked, claim_fingerprint, claim_status, claim_response, claim_expired, ...own } = r;
    return { kind: "done", row: r.status === null ? undefined : (own as unknown as R) };
  } catch (e) {
    const err = e as { code?: string; constraint_name?: string };
    if (err.code === "23505" && err.constraint_name === "idempotency_keys_pkey") return { kind: "raced" };
    throw e;
  }
}

interface ClaimColumns {
  claim_locked: boolean;
  claim_fingerprint: string | null;
  claim_status: number | null;
  claim_response: unknown;
  claim_expired: boolean | null;
  status: number | null;
}

/** Removes the key's row if it has expired (before a claimed statement runs again). */
export async function deleteExpiredKey(
  sql: AnySql,
  c: Pick<KeyClaim, "userId" | "route" | "key">,
): Promise<void> {
  await sql`
    DELETE FROM idempotency_keys
    WHERE user_id = ${c.userId} AND route = ${c.route} AND key = ${c.key} AND expires_at <= now()`;
}

export async function findStoredResponse(
  tx: AnySql,
  userId: string,
  route: string,
  key: string,
): Promise<StoredResponse | undefined> {
  const [row] = await tx<StoredResponse[]>`
    SELECT fingerprint, status, response FROM idempotency_keys
    WHERE user_id = ${userId} AND route = ${route} AND key = ${key} AND expires_at > now()`;
  return row;
}

export async function storeResponse(
  tx: Tx,
  r: {
    userId: string;
    route: string;
    key: string;
    fingerprint: string;
    status: number;
    response: unknown;
    ttlHours: number;
  },
): Promise<void> {
  // An expired row with the same key may still be there (the purge is periodic): replace it.
  await tx`
    INSERT INTO idempotency_keys (user_id, route, key, fingerprint, status, response, expires_at)
    VALUES (${r.userId}, ${r.route}, ${r.key}, ${r.fingerprint}, ${r.status}, ${tx.json(r.response as never)},
            now() + make_interval(hours => ${r.ttlHours}))
    ON CONFLICT (user_id, route, key) DO UPDATE
      SET fingerprint = EXCLUDED.fingerprint, status = EXCLUDED.status, response = EXCLUDED.response,
          created_at = now(), expires_at = EXCLUDED.expires_at`;
}

export async function purgeExpiredKeys(sql: Tx | import("./client.ts").Sql, limit = 5000): Promise<number> {
  const rows = await sql`
    DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
      SELECT ctid FROM idempotency_keys WHERE expires_at <= now() LIMIT ${limit})) RETURNING 1`;
  return rows.length;
}
