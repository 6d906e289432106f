import { Batcher } from "../../core/batcher.ts";
import { runCommands } from "../../core/redis.ts";
import { keys } from "../../core/redis-keys.ts";
import { touchReaders } from "../../db/feed.ts";
import type { Deps } from "../deps.ts";

// Fan-out skips readers who have not read for FEED_ACTIVE_DAYS (feed_readers). A reader's first
// read of the day records it, and that write used to be a commit on the read path: here the
// reads of a moment go into one statement, written every READER_TOUCH_FLUSH_MS off the path.
// Safe to delay: a reader who was active stays active meanwhile (the window is days long), and a
// returning reader, for whom the order matters, is written at once before the rebuild
// (api/feed/skeleton.ts). The seen-today mark in Redis is set after the commit, so a touch lost
// with a crash is made again on the reader's next read.

/** How long a reader's touch is remembered as written: a day, the mark's meaning. */
const SEEN_TTL_SECONDS = 86_400;
/** A batch this large is written at once, whatever the timer. */
const BATCH_MAX = 1_000;

type TouchDeps = Pick<Deps, "sql" | "redis" | "config" | "log">;

/** Writes touches and then the readers' seen marks (a mark for a touch that failed would lose it). */
export async function writeTouches(deps: TouchDeps, ids: readonly string[]): Promise<void> {
  await touchReaders(deps.sql, ids);
  await runCommands(
    deps.redis,
    ids.map((id) => ["set", keys.readerSeen(id), "1", "EX", String(SEEN_TTL_SECONDS)]),
  ).catch(() => {}); // without the mark the next read touches again: harmless
}

/** Readers' touches, batched (api/batcher.ts). */
export class ReaderTouches extends Batcher<string> {
  constructor(deps: TouchDeps) {
    super((ids) => writeTouches(deps, ids), {
      flushMs: deps.config.READER_TOUCH_FLUSH_MS,
      max: BATCH_MAX,
      onError: (e) =>
        deps.log?.({ level: "warn", msg: "reader touches not written; retrying", error: String(e) }),
    });
  }
}
