import { timestampOf } from "../core/ids.ts";
import { advanceFanoutJob, claimFanoutJob, fanOutBatch } from "../db/projections.ts";
import { afterBatch } from "./handlers/post-created.ts";
import type { HandlerDeps } from "./handlers/types.ts";

// The fan-out lane: posts of authors with more than FANOUT_INLINE_MAX followers are fanned out
// here, one FANOUT_BATCH_SIZE batch per turn, jobs taking turns (fanout_jobs in PostgreSQL), so
// that a hot author's 9 000-follower posts never sit in front of everyone else's in the event
// partitions. FANOUT_LANE_WORKERS workers per process each claim the job whose turn it is and
// skip those claimed (SKIP LOCKED), and go straight on to the next batch while jobs wait: a
// batch reads only the rows it writes (active_follows), so there is no idle gap to pay for.
//
// Crash-safe: a batch's rows and the job's advance commit together; a batch redone after a
// crash upserts the same rows. Several projector processes share the jobs the same way.

export interface LaneOptions extends HandlerDeps {
  idlePollMs?: number;
  log?: (line: Record<string, unknown>) => void;
}

export class FanoutLane {
  private running = false;
  private loops: Promise<void>[] = [];
  private wakes = new Set<() => void>();

  constructor(private readonly o: LaneOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loops = Array.from({ length: this.o.config.FANOUT_LANE_WORKERS }, () => this.run());
  }

  async stop(): Promise<void> {
    this.running = false;
    this.notify();
    await Promise.all(this.loops);
  }

  /** A job was enqueued in this process: no need to wait for the next poll. */
  notify(): void {
    for (const wake of this.wakes) wake();
  }

  /** One batch of the job whose turn it is; false when there is none. */
  async step(): Promise<boolean> {
    const { sql, config, metrics } = this.o;
    const result = await sql.begin(async (tx) => {
      const job = await claimFanoutJob(tx);
      if (!job) return null;
      const batch = await fanOutBatch(tx, {
        postId: job.post_id,
        authorId: job.author_id,
        afterFollower: job.after_follower,
        limit: config.FANOUT_BATCH_SIZE,
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
          const wake = () => {
            clearTimeout(t);
            this.wakes.delete(wake);
            resolve();
          };
          const t = setTimeout(wake, this.o.idlePollMs ?? 200);
          this.wakes.add(wake);
        });
      }
    }
  }
}
