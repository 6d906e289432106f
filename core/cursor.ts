import { AppError } from "./errors.ts";
import { parseId } from "./ids.ts";

// Opaque keyset cursors: base64url of "<kind>.<millis>.<id>". The kind stops a cursor of one
// list (say, a user's posts) being replayed against another (the feed). Not signed: a forged
// cursor only moves the reader's own position, and everything is validated on decode.

export type CursorKind = "feed" | "user_posts";
export interface CursorPosition {
  at: number; // created_at in epoch milliseconds
  id: string; // the tie-breaker, a decimal id
}

const KINDS: ReadonlySet<string> = new Set(["feed", "user_posts"]);

export function encodeCursor(kind: CursorKind, pos: CursorPosition): string {
  return Buffer.from(`${kind}.${pos.at}.${pos.id}`, "utf8").toString("base64url");
}

export function decodeCursor(kind: CursorKind, cursor: string): CursorPosition {
  const bad = (why: string) => new AppError("invalid_cursor", `cursor is not valid: ${why}`);
  if (cursor.length === 0 || cursor.length > 128 || !/^[A-Za-z0-9_-]+$/.test(cursor))
    throw bad("not a cursor from this API");
  const parts = Buffer.from(cursor, "base64url").toString("utf8").split(".");
  if (parts.length !== 3) throw bad("not a cursor from this API");
  const [k, at, id] = parts as [string, string, string];
  if (!KINDS.has(k)) throw bad("not a cursor from this API");
  if (k !== kind) throw bad(`it belongs to another list (${k})`);
  if (!/^[0-9]{1,15}$/.test(at) || parseId(id) === null) throw bad("corrupted position");
  return { at: Number(at), id };
}
