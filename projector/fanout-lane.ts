import { timestampOf } from "../core/ids.ts";
import { advanceFanoutJob, claimFanoutJob, fanOutBatch } from "../db/projections.ts";
import { afterBatch } from "./handlers/post-created.ts";
import type { HandlerDeps } from "./handlers/types.ts";

// The fan-out lane: posts of authors with more than FANOUT_INLINE_MAX followers are fanned out
// here, one FANOUT_BATCH_SIZE batch per turn, jobs taking turns (fanout_jobs in PostgreSQL), so
// that a hot author's 9 000-follower posts never sit in front of everyone else's in the event
// partitions. While the main consumer is busy the lane rests as long as its last batch took, so
// it holds at most about half of the database's time against ordinary events.
//
// Crash-safe: a batch's rows and the job's advance commit together; a batch redone after a
// crash upserts the same rows. Several projector processes share the jobs (SKIP LOCKED).

export interface LaneOptions extends HandlerDeps {
  /** When the main consumer last handled an entry (ms since the epoch). */
  mainBusySince: () => number;
  idlePollMs?: number;
  log?: (line: Record<string, unknown>) => void;
}

const BUSY_WINDOW_MS = 250;

export class FanoutLane {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(private readonly o: LaneOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** A job was enqueued in this process: no need to wait for the next poll. */
  notify(): void {
    this.wake?.();
  }

  /** One batch of the job whose turn it is; false when there is none. */
  async step(): Promise<boolean> {
    const { sql, config, metrics } = this.o;
    const started = performance.now();
    const result = await sql.begin(async (tx) => {
      const job = await claimFanoutJob(tx);
      if (!job) return null;
      const batch = await fanOutBatch(tx, {
        postId: job.post_id,
        authorId: job.author_id,
        afterFollower: job.after_follower,
        limit: config.FANOUT_BATCH_SIZE,
        activeDays: config.FEED_ACTIVE_DAYS,
      });
      const done = batch.followers.length < config.FANOUT_BATCH_SIZE;
      await advanceFanoutJob(tx, job.post_id, done ? null : batch.followers.at(-1)!, batch.inserted);
      return { job, batch, done };
    });
    if (!result) return false;
    const { job, batch, done } = result;
    await afterBatch(this.o, { id: job.post_id, at: timestampOf(job.post_id) }, batch);
    if (done) {
      // The post is now in every active follower's feed: that is its fan-out lag.
      metrics.fanoutDuration.observe((Date.now() - job.created_at.getTime()) / 1000);
      metrics.lag.observe(
        { group: "fanout", type: "PostCreated" },
        Math.max(0, (Date.now() - timestampOf(job.post_id)) / 1000),
      );
    }
    if (Date.now() - this.o.mainBusySince() < BUSY_WINDOW_MS) await Bun.sleep(performance.now() - started);
    return true;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let worked = false;
      try {
        worked = await this.step();
      } catch (e) {
        // The job stays where it was (its transaction rolled back) and is tried again.
        this.o.log?.({ level: "error", msg: "fan-out lane batch failed; will retry", error: String(e) });
        await Bun.sleep(this.o.config.RETRY_BASE_MS);
      }
      if (!worked && this.running) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.o.idlePollMs ?? 200);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wake = null;
      }
    }
  }
}
