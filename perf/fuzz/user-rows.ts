import { shardOf } from "../../core/ids.ts";
import type { AnySql } from "../../db/client.ts";

// Everything of the write model that one user owns, read in one go: the fuzzer (perf/fuzz)
// takes it before and after its run to show that nobody else's requests changed any of it.

export interface UserRows {
  avatar_key: string | null;
  posts: { id: string; text: string; image_key: string | null }[];
  /** Post ids the user likes, sorted. */
  likes: string[];
  /** User ids the user follows, sorted. */
  follows: string[];
  /** Refresh tokens neither used nor revoked. */
  live_refresh_tokens: number;
}

export async function userRowsOf(sql: AnySql, userId: string): Promise<UserRows> {
  const [[user], posts, likes, follows, [tokens]] = await Promise.all([
    sql<{ avatar_key: string | null }[]>`SELECT avatar_key FROM users WHERE id = ${userId}`,
    sql<{ id: string; text: string; image_key: string | null }[]>`
      SELECT id::text, text, image_key FROM posts
      WHERE shard = ${shardOf(userId)} AND author_id = ${userId} ORDER BY id`,
    sql<{ post_id: string }[]>`SELECT post_id::text FROM likes WHERE user_id = ${userId} ORDER BY post_id`,
    sql<{ followee_id: string }[]>`
      SELECT followee_id::text FROM follows WHERE follower_id = ${userId} ORDER BY followee_id`,
    sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM refresh_tokens
      WHERE user_id = ${userId} AND used_at IS NULL AND revoked_at IS NULL`,
  ]);
  return {
    avatar_key: user?.avatar_key ?? null,
    posts: [...posts],
    likes: likes.map((r) => r.post_id),
    follows: follows.map((r) => r.followee_id),
    live_refresh_tokens: tokens?.n ?? 0,
  };
}
