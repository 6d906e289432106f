import type { AnySql } from "./client.ts";

export interface UserRow {
  id: string;
  handle: string;
  display_name: string;
  avatar_key: string | null;
  avatar_thumb_key: string | null;
}

export interface ProfileRow extends UserRow {
  followers_count: string;
  following_count: string;
  posts_count: string;
  followed_by_me: boolean;
}

/**
 * Creates a user on the given logical shard; the id embeds it. `seeded` marks a synthetic user
 * the load-test signer may serve (the seeder and tests; never a sign-in).
 */
export async function insertUser(
  sql: AnySql,
  u: { shard: number; handle: string; display_name: string; seeded?: boolean },
): Promise<UserRow> {
  const [row] = await sql<UserRow[]>`
    INSERT INTO users (id, handle, display_name, seeded)
    VALUES (next_id(${u.shard}), ${u.handle}, ${u.display_name}, ${u.seeded ?? false})
    RETURNING id, handle, display_name, avatar_key, avatar_thumb_key`;
  return row!;
}

export async function findUser(sql: AnySql, id: string): Promise<UserRow | undefined> {
  const [row] = await sql<UserRow[]>`
    SELECT id, handle, display_name, avatar_key, avatar_thumb_key FROM users WHERE id = ${id}`;
  return row;
}

export async function userExists(sql: AnySql, id: string): Promise<boolean> {
  const [row] = await sql`SELECT 1 FROM users WHERE id = ${id}`;
  return row !== undefined;
}

/** A profile with its counters and whether the viewer follows it, in one statement. */
export async function findProfile(
  sql: AnySql,
  id: string,
  viewerId: string | null,
): Promise<ProfileRow | undefined> {
  const [row] = await sql<ProfileRow[]>`
    SELECT u.id, u.handle, u.display_name, u.avatar_key, u.avatar_thumb_key,
           coalesce(s.followers_count, 0)::text AS followers_count,
           coalesce(s.following_count, 0)::text AS following_count,
           coalesce(s.posts_count, 0)::text AS posts_count,
           (${viewerId}::bigint IS NOT NULL AND EXISTS (
              SELECT 1 FROM follows f WHERE f.follower_id = ${viewerId}::bigint AND f.followee_id = u.id)) AS followed_by_me
    FROM users u LEFT JOIN user_stats s ON s.user_id = u.id
    WHERE u.id = ${id}`;
  return row;
}

/** Creates a user unless the handle is taken (then undefined: try another handle). */
export async function insertUserIfHandleFree(
  sql: AnySql,
  u: { shard: number; handle: string; display_name: string },
): Promise<UserRow | undefined> {
  const [row] = await sql<UserRow[]>`
    INSERT INTO users (id, handle, display_name)
    VALUES (next_id(${u.shard}), ${u.handle}, ${u.display_name})
    ON CONFLICT (handle) DO NOTHING
    RETURNING id::text, handle, display_name, avatar_key, avatar_thumb_key`;
  return row;
}

/**
 * Points a user at a new avatar object, whose thumbnail is yet to be made; returns the key it
 * replaced (the row stays locked).
 */
export async function replaceAvatar(
  sql: AnySql,
  userId: string,
  key: string,
): Promise<{ previous: string | null } | undefined> {
  const [row] = await sql<{ previous: string | null }[]>`
    WITH old AS (SELECT avatar_key FROM users WHERE id = ${userId} FOR UPDATE)
    UPDATE users u SET avatar_key = ${key}, avatar_thumb_key = NULL FROM old WHERE u.id = ${userId}
    RETURNING old.avatar_key AS previous`;
  return row;
}

/** Records an avatar's thumbnail, unless the user moved on to another avatar meanwhile. */
export async function recordAvatarThumb(
  sql: AnySql,
  userId: string,
  avatarKey: string,
  thumbKey: string,
): Promise<boolean> {
  const rows = await sql`
    UPDATE users SET avatar_thumb_key = ${thumbKey}
    WHERE id = ${userId} AND avatar_key = ${avatarKey} RETURNING 1`;
  return rows.length === 1;
}

/** Users made by the seeder (flagged `seeded`), in id order, for the load-test signer. */
export async function seededUserIds(sql: AnySql, count: number, offset: number): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    SELECT id::text AS id FROM users
    WHERE seeded
    ORDER BY users.id -- the column: "id" alone would sort the text alias
    LIMIT ${count} OFFSET ${offset}`;
  return rows.map((r) => r.id);
}
