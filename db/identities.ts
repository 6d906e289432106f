import type { AnySql, Tx } from "./client.ts";
import type { UserRow } from "./users.ts";

/** Serialises first logins of one (provider, subject) until the transaction ends. */
export async function lockIdentity(tx: Tx, provider: string, subject: string): Promise<void> {
  await tx`SELECT pg_advisory_xact_lock(hashtextextended(${`identity\n${provider}\n${subject}`}, 0))`;
}

export async function findUserByIdentity(
  sql: AnySql,
  provider: string,
  subject: string,
): Promise<UserRow | undefined> {
  const [row] = await sql<UserRow[]>`
    SELECT u.id::text, u.handle, u.display_name, u.avatar_key, u.avatar_thumb_key
    FROM user_identities i JOIN users u ON u.id = i.user_id
    WHERE i.provider = ${provider} AND i.subject = ${subject}`;
  return row;
}

export async function insertIdentity(
  sql: AnySql,
  i: { provider: string; subject: string; userId: string; email: string | null },
): Promise<void> {
  await sql`
    INSERT INTO user_identities (provider, subject, user_id, email)
    VALUES (${i.provider}, ${i.subject}, ${i.userId}, ${i.email})`;
}

/** Whether a handle is taken (handles are unique). */
export async function handlesTaken(sql: AnySql, candidates: readonly string[]): Promise<Set<string>> {
  const rows = await sql<
    { handle: string }[]
  >`SELECT handle FROM users WHERE handle = ANY(${candidates as string[]})`;
  return new Set(rows.map((r) => r.handle));
}
