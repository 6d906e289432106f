import { E_TIMEOUT, Semaphore, withTimeout } from "async-mutex";
import { type Config, perConfig } from "../../core/config.ts";
import { AppError } from "../../core/errors.ts";

// Decoding an upload (sharp, on libuv's small thread pool) is the costliest thing a request can
// ask for: a burst of large images would take every thread, and the memory of each decoded
// image, at once. A process decodes at most MEDIA_DECODE_CONCURRENCY images at a time; a caller
// waits for a slot up to MEDIA_DECODE_WAIT_MS, then gets 503 with Retry-After.

export interface DecodeGate {
  /** Runs `work` holding a slot, or throws media_busy when none came free in time. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Callers waiting for a slot now. */
  readonly waiting: number;
  /** The slots themselves (tests hold one to fill the gate). */
  readonly slots: Semaphore;
}

/** One gate per process (per config object, which in a process is one). */
export const decodeGate = perConfig((config: Config): DecodeGate => {
  const slots = new Semaphore(config.MEDIA_DECODE_CONCURRENCY);
  const timed = withTimeout(slots, config.MEDIA_DECODE_WAIT_MS);
  let waiting = 0;
  return {
    slots,
    get waiting() {
      return waiting;
    },
    async run(work) {
      let release: () => void;
      waiting++;
      try {
        [, release] = await timed.acquire();
      } catch (e) {
        if (e !== E_TIMEOUT) throw e;
        throw new AppError(
          "media_busy",
          `every image decoder of this server stayed busy for ${config.MEDIA_DECODE_WAIT_MS} ms; retry shortly`,
          { headers: { "retry-after": "1" } },
        );
      } finally {
        waiting--;
      }
      try {
        return await work();
      } finally {
        release();
      }
    },
  };
});
