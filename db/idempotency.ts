import type { Tx } from "./client.ts";

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
    SELECT pg_try_advisory_xact_lock(hashtextextended(${`${userId}\n${route}\n${key}`}, 0)) AS locked`;
  return row!.locked;
}

export async function findStoredResponse(
  tx: Tx,
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
