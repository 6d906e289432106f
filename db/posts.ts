import type { CursorPosition } from "../core/cursor.ts";
import type { FeedEvent, NewEvent } from "../core/events.ts";
import { shardOf } from "../core/ids.ts";
import type { AnySql } from "./client.ts";
import { type ClaimOutcome, type KeyClaim, runClaimed } from "./idempotency.ts";
import { completedEvent } from "./outbox.ts";

export interface PostRow {
  id: string;
  author_id: string;
  text: string;
  image_key: string | null;
  image_width: number | null;
  image_height: number | null;
}

/** Inserts a post on its author's shard; created_at is taken from the new id. */
export async function insertPost(
  sql: AnySql,
  authorId: string,
  text: string,
): Promise<PostRow & { created_at: Date }> {
  const shard = shardOf(authorId);
  const [row] = await sql<(PostRow & { created_at: Date })[]>`
    INSERT INTO posts (shard, id, author_id, text, created_at)
    SELECT ${shard}, i, ${authorId}, ${text}, id_time(i) FROM next_id(${shard}) AS i
    RETURNING id, author_id, text, image_key, image_width, image_height, created_at`;
  return row!;
}

/**
 * CreatePostCommand as one statement (runClaimed): the post, its PostCreated outbox row and the
 * stored 201. The new ids come from next_id here, so the statement writes them into the
 * answer's and the event's `id` and `created_at` fields.
 */
export function createPostOnce(
  sql: AnySql,
  claim: KeyClaim | null,
  p: { authorId: string; text: string; stream: string; event: NewEvent; answer: object },
): Promise<ClaimOutcome<{ status: number; post_id: string; event_id: string; event: FeedEvent }>> {
  const shard = shardOf(p.authorId);
  return runClaimed(
    sql,
    claim,
    sql`ids AS MATERIALIZED (
        SELECT next_id(${shard}) AS post_id, next_id(${shard}) AS event_id FROM go
      ), post AS (
        INSERT INTO posts (shard, id, author_id, text, created_at)
        SELECT ${shard}, post_id, ${p.authorId}, ${p.text}, id_time(post_id) FROM ids
        -- As JavaScript's toISOString writes it (the answer's and the event's created_at).
        RETURNING id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at
      ), ev AS (
        INSERT INTO outbox (id, stream, type, event)
        SELECT i.event_id, ${p.stream}, 'PostCreated',
               ${completedEvent(sql, p.event, sql`i.event_id`, sql`jsonb_build_object('post_id', post.id::text, 'created_at', post.at)`)}
        FROM ids i, post
        RETURNING id, event
      ), result AS (
        SELECT 201 AS status,
               ${sql.json(p.answer as never)}::jsonb || jsonb_build_object('id', post.id::text, 'created_at', post.at) AS body,
               post.id::text AS post_id, ev.id::text AS event_id, ev.event
        FROM post, ev
      )`,
  );
}

/** The author of a post, or undefined when the post does not exist. */
export async function findPostAuthor(sql: AnySql, postId: string): Promise<string | undefined> {
  const [row] = await sql<{ author_id: string }[]>`
    SELECT author_id FROM posts WHERE shard = ${shardOf(postId)} AND id = ${postId}`;
  return row?.author_id;
}

/** One page of an author's posts, newest first, strictly after the keyset position. */
export async function authorPostIds(
  sql: AnySql,
  authorId: string,
  after: CursorPosition | null,
  limit: number,
): Promise<string[]> {
  const shard = shardOf(authorId);
  const rows = after
    ? await sql<{ id: string }[]>`
        SELECT id FROM posts
        WHERE shard = ${shard} AND author_id = ${authorId}
          AND (created_at, id) < (to_timestamp(${after.at} / 1000.0), ${after.id}::bigint)
        ORDER BY created_at DESC, id DESC LIMIT ${limit}`
    : await sql<{ id: string }[]>`
        SELECT id FROM posts WHERE shard = ${shard} AND author_id = ${authorId}
        ORDER BY created_at DESC, id DESC LIMIT ${limit}`;
  return rows.map((r) => r.id);
}

/** The author's posts right after a keyset position, oldest first (newer-ward paging). */
export async function authorPostIdsNewer(
  sql: AnySql,
  authorId: string,
  after: CursorPosition,
  limit: number,
): Promise<string[]> {
  const rows = await sql<{ id: string }[]>`
    SELECT id FROM posts
    WHERE shard = ${shardOf(authorId)} AND author_id = ${authorId}
      AND (created_at, id) > (to_timestamp(${after.at} / 1000.0), ${after.id}::bigint)
    ORDER BY created_at, id LIMIT ${limit}`;
  return rows.map((r) => r.id);
}

/**
 * Attaches an image to one's own post; returns the key it replaced, or undefined when the post
 * does not exist or is someone else's (the row stays locked until commit).
 */
export async function attachPostImage(
  sql: AnySql,
  p: { postId: string; authorId: string; key: string; width: number; height: number },
): Promise<{ previous: string | null } | undefined> {
  const shard = shardOf(p.postId);
  const [row] = await sql<{ previous: string | null }[]>`
    WITH old AS (
      SELECT image_key FROM posts WHERE shard = ${shard} AND id = ${p.postId} AND author_id = ${p.authorId} FOR UPDATE
    )
    UPDATE posts SET image_key = ${p.key}, image_width = ${p.width}, image_height = ${p.height}
    FROM old WHERE shard = ${shard} AND id = ${p.postId}
    RETURNING old.image_key AS previous`;
  return row;
}

/**
 * Records a post's thumbnails, only if the post still shows the image they were made from
 * (a replacement may have come meanwhile). True when recorded.
 */
export async function recordImageVariants(
  sql: AnySql,
  postId: string,
  imageKey: string,
  variants: Record<string, unknown>,
): Promise<boolean> {
  const rows = await sql`
    UPDATE posts SET image_variants = ${sql.json(variants as never)}
    WHERE shard = ${shardOf(postId)} AND id = ${postId} AND image_key = ${imageKey} RETURNING 1`;
  return rows.length === 1;
}
