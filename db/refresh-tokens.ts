import type { AnySql, Sql } from "./client.ts";

// Refresh-token rows. Callers hold only the SHA-256 of a token; the token itself is never stored.

export interface RefreshRow {
  id: string;
  user_id: string;
  family_id: string;
  used_at: Date | null;
  revoked_at: Date | null;
  idle_expires_at: Date;
  absolute_expires_at: Date;
}

export async function insertRefreshToken(
  sql: AnySql,
  r: {
    hash: Uint8Array;
    userId: string;
    familyId: string;
    parentId: string | null;
    idleDays: number;
    absoluteExpiresAt: Date;
  },
): Promise<void> {
  await sql`
    INSERT INTO refresh_tokens (token_hash, user_id, family_id, parent_id, idle_expires_at, absolute_expires_at)
    VALUES (${Buffer.from(r.hash)}, ${r.userId}, ${r.familyId}, ${r.parentId},
            least(now() + make_interval(days => ${r.idleDays}), ${r.absoluteExpiresAt}), ${r.absoluteExpiresAt})`;
}

/**
 * Spends a live token atomically: of any number of concurrent callers with the same token,
 * exactly one gets the row back.
 */
export async function spendRefreshToken(sql: AnySql, hash: Uint8Array): Promise<RefreshRow | undefined> {
  const [row] = await sql<RefreshRow[]>`
    UPDATE refresh_tokens SET used_at = now()
    WHERE token_hash = ${Buffer.from(hash)} AND used_at IS NULL AND revoked_at IS NULL
      AND idle_expires_at > now() AND absolute_expires_at > now()
    RETURNING id::text, user_id::text, family_id::text, used_at, revoked_at, idle_expires_at, absolute_expires_at`;
  return row;
}

export async function findRefreshToken(sql: AnySql, hash: Uint8Array): Promise<RefreshRow | undefined> {
  const [row] = await sql<RefreshRow[]>`
    SELECT id::text, user_id::text, family_id::text, used_at, revoked_at, idle_expires_at, absolute_expires_at
    FROM refresh_tokens WHERE token_hash = ${Buffer.from(hash)}`;
  return row;
}

export async function revokeFamily(sql: AnySql, familyId: string): Promise<number> {
  const rows = await sql`
    UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = ${familyId} AND revoked_at IS NULL RETURNING 1`;
  return rows.length;
}

export async function purgeExpiredRefreshTokens(sql: Sql, limit = 5000): Promise<number> {
  const rows = await sql`
    DELETE FROM refresh_tokens WHERE id = ANY(ARRAY(
      SELECT id FROM refresh_tokens WHERE absolute_expires_at < now() - interval '1 day' LIMIT ${limit})) RETURNING 1`;
  return rows.length;
}
