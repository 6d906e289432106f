import type { AnySql, Tx } from "./client.ts";

// Pending direct uploads (POST /uploads) and the per-user quota on them.

/**
 * Serialises one user's reservations until the transaction ends: two requests at once must not
 * both see room for one more upload.
 */
export async function lockPendingUploads(tx: Tx, userId: string): Promise<void> {
  await tx`SELECT pg_advisory_xact_lock(hashtextextended(${`pending_uploads\n${userId}`}, 0))`;
}

export interface Reservation {
  reserved: boolean;
  /** The user's pending uploads before this one. */
  count: number;
  bytes: number;
  /** When the oldest of them was handed out (null: none). */
  oldest: Date | null;
}

/** Records a pending upload if the user stays within both limits with it (under the lock above). */
export async function reservePendingUpload(
  tx: Tx,
  u: { key: string; userId: string; bytes: number; maxCount: number; maxBytes: number },
): Promise<Reservation> {
  const [row] = await tx<{ reserved: boolean; count: number; bytes: string; oldest: Date | null }[]>`
    WITH usage AS (
      SELECT count(*)::int AS n, coalesce(sum(bytes), 0)::bigint AS b, min(created_at) AS oldest
      FROM pending_uploads WHERE user_id = ${u.userId}
    ), ins AS (
      INSERT INTO pending_uploads (key, user_id, bytes)
      SELECT ${u.key}, ${u.userId}, ${u.bytes} FROM usage
      WHERE n < ${u.maxCount} AND b + ${u.bytes} <= ${u.maxBytes}
      RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM ins) AS reserved, n AS count, b::text AS bytes, oldest FROM usage`;
  return { reserved: row!.reserved, count: row!.count, bytes: Number(row!.bytes), oldest: row!.oldest };
}

/** An upload was attached: it no longer counts. */
export async function releasePendingUpload(sql: AnySql, userId: string, key: string): Promise<void> {
  await sql`DELETE FROM pending_uploads WHERE key = ${key} AND user_id = ${userId}`;
}

/** Releases uploads handed out before `before` (their objects are swept); returns how many. */
export async function purgePendingUploads(sql: AnySql, before: Date): Promise<number> {
  const rows = await sql`DELETE FROM pending_uploads WHERE created_at < ${before} RETURNING 1`;
  return rows.length;
}
