import { type CursorKind, type CursorPosition, encodeCursor } from "../../core/cursor.ts";
import { AppError } from "../../core/errors.ts";
import { timestampOf } from "../../core/ids.ts";

// Newer-ward paging (after=): a pull-to-refresh asks for what came after the newest post it
// holds. The answer is the posts right after the cursor, at most `limit`, shown newest first,
// and has_newer when more remain past them, so that a client fills a gap in order, page by page.

/** `cursor` and `after` go opposite ways: a request names one at most. */
export function oneDirection(query: { cursor?: string; after?: string }): void {
  if (query.cursor !== undefined && query.after !== undefined)
    throw new AppError("validation_failed", "give cursor (older posts) or after (newer posts), not both", {
      errors: [{ location: "query", path: "after", message: "not with cursor" }],
    });
}

const positionOf = (id: string): CursorPosition => ({ at: timestampOf(id), id });

function newerThan(id: string, after: CursorPosition): boolean {
  const at = timestampOf(id);
  return at > after.at || (at === after.at && BigInt(id) > BigInt(after.id));
}

/**
 * From a newest-first list (`page(cursor, n)`), the posts newer than `after`: walks from the top
 * until it passes the cursor or has read `max` posts (a feed holds about FEED_MAX_ITEMS; what
 * lies further was trimmed), and keeps the `limit` right after the cursor.
 */
export async function newerFromTop(
  after: CursorPosition,
  limit: number,
  max: number,
  page: (cursor: string | undefined, n: number) => Promise<{ ids: string[]; nextCursor: string | null }>,
): Promise<{ ids: string[]; hasNewer: boolean }> {
  const newer: string[] = [];
  let cursor: string | undefined;
  for (let read = 0; read < max; ) {
    const p = await page(cursor, 100);
    read += p.ids.length;
    const past = p.ids.findIndex((id) => !newerThan(id, after));
    newer.push(...(past === -1 ? p.ids : p.ids.slice(0, past)));
    if (past !== -1 || p.nextCursor === null) break;
    cursor = p.nextCursor;
  }
  return { ids: newer.slice(Math.max(0, newer.length - limit)), hasNewer: newer.length > limit };
}

/** The cursors a page carries: next_cursor from its oldest item, prev_cursor from its newest. */
export function pageCursors(
  kind: CursorKind,
  ids: readonly string[],
  more: boolean,
): { next: string | null; prev: string | null } {
  const first = ids[0];
  const last = ids[ids.length - 1];
  return {
    next: more && last ? encodeCursor(kind, positionOf(last)) : null,
    prev: first ? encodeCursor(kind, positionOf(first)) : null,
  };
}
