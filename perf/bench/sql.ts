import type { Sql } from "../../db/client.ts";

// The benchmark's read-only questions about the seeded network (perf/bench.ts): which seeded
// users to act as, chosen by how many followers they have, and a sample of one author's
// followers. Who is active, and the seeded post ids, come from the seed model instead.

export interface UserFollowers {
  id: string;
  followers: number;
}

/**
 * Up to `limit` users with `min`–`max` followers (user_stats) whose ids lie in [lo, hi] (the
 * seeded range), in random order so repeated runs spread their posts over different authors.
 */
export async function usersByFollowers(
  sql: Sql,
  r: { min: number; max: number; lo: bigint; hi: bigint; limit: number },
): Promise<UserFollowers[]> {
  const rows = await sql<{ id: string; followers: string }[]>`
    SELECT user_id::text AS id, followers_count AS followers FROM user_stats
    WHERE followers_count BETWEEN ${r.min} AND ${r.max}
      AND user_id BETWEEN ${r.lo.toString()} AND ${r.hi.toString()}
    ORDER BY random() LIMIT ${r.limit}`;
  return rows.map((row) => ({ id: row.id, followers: Number(row.followers) }));
}

/** A random sample of an author's followers (follows_followee_idx reads only that author's rows). */
export async function followersSample(sql: Sql, authorId: string, limit: number): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    SELECT follower_id::text AS id FROM follows WHERE followee_id = ${authorId}
    ORDER BY random() LIMIT ${limit}`;
  return rows.map((row) => row.id);
}
