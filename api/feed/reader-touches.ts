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
export const SEEN_TTL_SECONDS = 86_400;
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

export class ReaderTouches {
  private pending = new Set<string>();
  private writing = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private flushing: Promise<void> | null = null;

  constructor(private readonly deps: TouchDeps) {}

  /** True while this reader's touch waits to be written or is being written. */
  has(id: string): boolean {
    return this.pending.has(id) || this.writing.has(id);
  }

  add(id: string): void {
    this.pending.add(id);
    if (this.pending.size >= BATCH_MAX) void this.flush();
    else this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.deps.config.READER_TOUCH_FLUSH_MS);
    this.timer.unref?.();
  }

  /** Writes what is pending now (after any write in progress); a failed batch is tried again later. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.flushing) await this.flushing;
    if (this.pending.size === 0) return;
    const ids = [...this.pending];
    this.writing = this.pending;
    this.pending = new Set();
    this.flushing = writeTouches(this.deps, ids)
      .catch((e: unknown) => {
        for (const id of ids) this.pending.add(id);
        this.deps.log?.({ level: "warn", msg: "reader touches not written; retrying", error: String(e) });
        this.schedule();
      })
      .finally(() => {
        this.writing = new Set();
        this.flushing = null;
      });
    await this.flushing;
  }
}
