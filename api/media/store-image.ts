import { AppError } from "../../core/errors.ts";
import type { Storage } from "../../core/storage.ts";
import type { Tx } from "../../db/client.ts";
import { releasePendingUpload } from "../../db/uploads.ts";
import {
  type CommandOutcome,
  type CommandResult,
  type IdempotencyInput,
  runCommand,
} from "../commands/run-command.ts";
import type { Deps } from "../deps.ts";
import type { CheckedImage } from "./validate-image.ts";

// The one write path of an image, for every command that stores one (POST /posts with an image,
// PUT /posts/{id}/image, PUT /me/avatar). Inside the command's transaction the object is put
// first, then the rows that point at it are written: a crash never leaves a row pointing at a
// missing object. If the transaction fails, the new object is deleted at once; once it has
// committed, the direct upload it came from is released from the quota (in the transaction) and
// deleted. An old object it replaces is deleted afterwards by the projector, on the event.

/** An image ready to store: checked (./validate-image.ts), and the direct upload it came from. */
export type ImageToStore = CheckedImage & { uploadKey: string | null };

/** Cleanup that must not turn a done command into an error: failures only cost garbage. */
export async function bestEffort(work: Promise<unknown>): Promise<void> {
  try {
    await work;
  } catch {}
}

/** The object storage, or 503 when S3 is not configured. */
export function storageOf(deps: Pick<Deps, "storage">): Storage {
  if (!deps.storage)
    throw new AppError("not_ready", "media storage is not configured (S3_ENDPOINT, S3_KEY, S3_SECRET)");
  return deps.storage;
}

/**
 * Runs the command `work` (api/commands/run-command.ts runCommand, with its idempotency) with
 * `put`, which stores the image at a key: `work` calls it before writing the rows that point at
 * that key.
 */
export async function storeImage<B>(
  deps: Deps,
  idem: IdempotencyInput,
  image: ImageToStore,
  work: (tx: Tx, put: (key: string) => Promise<void>) => Promise<CommandResult<B>>,
): Promise<CommandOutcome<B>> {
  const storage = storageOf(deps);
  let stored: string | null = null;
  let out: CommandOutcome<B>;
  try {
    out = await runCommand<B>(deps, idem, async (tx) => {
      const result = await work(tx, async (key) => {
        await storage.put(key, image.bytes, image.mime);
        stored = key;
      });
      // Attached: the direct upload no longer counts against its user's quota.
      if (image.uploadKey) await releasePendingUpload(tx, idem.userId, image.uploadKey);
      return result;
    });
  } catch (e) {
    // The transaction rolled back: nothing points at the object it wrote.
    if (stored) await bestEffort(storage.delete(stored));
    throw e;
  }
  if (image.uploadKey && !out.replayed) await bestEffort(storage.delete(image.uploadKey));
  return out;
}
