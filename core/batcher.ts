// Writes that may wait a few milliseconds, gathered into one statement: readers' first reads of
// the day (api/feed/reader-touches.ts), outbox rows marked published (api/commands/run-command.ts),
// feeds to trim after fan-out (projector/projector.ts).
// Items wait at most `flushMs`, or go at once when `max` are waiting; one write at a time; a
// write that fails keeps its items for the next one. What waits is lost with the process, so
// only writes whose loss something else repairs may wait here (each user says what does).

export interface BatcherOptions {
  /** How long an item may wait (ms). */
  flushMs: number;
  /** A batch this large is written at once, whatever the timer. */
  max: number;
  /** Told about a failed write (its items are kept and tried again). */
  onError?: (e: unknown) => void;
}

export class Batcher<T> {
  private pending = new Set<T>();
  private writing = new Set<T>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly opts: BatcherOptions,
  ) {}

  /** True while this item waits to be written or is being written. */
  has(item: T): boolean {
    return this.pending.has(item) || this.writing.has(item);
  }

  add(item: T): void {
    this.pending.add(item);
    if (this.pending.size >= this.opts.max) void this.flush();
    else this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.opts.flushMs);
    this.timer.unref?.();
  }

  /** Writes what is pending now (after any write in progress). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.flushing) await this.flushing;
    if (this.pending.size === 0) return;
    const items = [...this.pending];
    this.writing = this.pending;
    this.pending = new Set();
    this.flushing = this.write(items)
      .catch((e: unknown) => {
        for (const item of items) this.pending.add(item);
        this.opts.onError?.(e);
        this.schedule();
      })
      .finally(() => {
        this.writing = new Set();
        this.flushing = null;
      });
    await this.flushing;
  }
}
