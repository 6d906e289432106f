import { Batcher } from "../../core/batcher.ts";
import { AppError } from "../../core/errors.ts";
import { type DraftEvent, eventEnvelope } from "../../core/events.ts";
import { shardOf, streamPartitionFor } from "../../core/ids.ts";
import { redisLooksDown, withRedis } from "../../core/redis-breaker.ts";
import { keys } from "../../core/redis-keys.ts";
import { publishEvents } from "../../core/streams.ts";
import type { Tx } from "../../db/client.ts";
import {
  type ClaimOutcome,
  deleteExpiredKey,
  findStoredResponse,
  type KeyClaim,
  type StoredResponse,
  storeResponse,
  tryLockKey,
} from "../../db/idempotency.ts";
import { insertOutbox, markPublished, type OutboxRow } from "../../db/outbox.ts";
import type { Deps } from "../deps.ts";
import type { ResponseSet } from "../schemas.ts";
import { fingerprint } from "./fingerprint.ts";

// The write path of every command: one transaction that reserves the idempotency key, writes
// the rows and the outbox rows; XADD right after commit; then the answer. If the process dies
// between commit and XADD the projector's outbox sweeper publishes the events later.

export interface CommandResult<B> {
  status: number;
  body: B;
  events: DraftEvent[];
  /**
   * Cache writes of the committed change, run after commit and before the events are published,
   * so that the events' handlers always run after them (core/liked-set.ts relies on it). Best
   * effort: it must not throw.
   */
  updateCaches?: () => Promise<void>;
}

export interface CommandOutcome<B> {
  status: number;
  body: B;
  replayed: boolean;
}

export interface IdempotencyInput {
  userId: string;
  route: string; // the route template, e.g. "POST /posts"
  key: string | undefined;
  required: boolean;
  body: unknown;
}

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** Validates the Idempotency-Key header (a quoted or bare visible-ASCII string, 1–255 long). */
export function parseIdempotencyKey(raw: string | undefined, required: boolean): string | undefined {
  if (raw === undefined || raw === "") {
    if (required)
      throw new AppError(
        "idempotency_key_missing",
        "this route requires an Idempotency-Key header (a unique string per request, e.g. a UUID)",
      );
    return undefined;
  }
  // The IETF draft sends the key as a structured-field string: "…"; bare keys are accepted too.
  const key = raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2 ? raw.slice(1, -1) : raw;
  if (!KEY_PATTERN.test(key))
    throw new AppError("idempotency_key_invalid", "Idempotency-Key must be 1–255 visible ASCII characters");
  return key;
}

/** What makes two requests with one key the same request: method, route and body. */
function fingerprintOf(idem: IdempotencyInput): string {
  return fingerprint(idem.route.split(" ")[0]!, idem.route, idem.body);
}

/** The stream partition of an actor's events: one actor's events stay in order. */
export function streamOf(deps: Pick<Deps, "config">, actorId: string): string {
  return keys.stream(streamPartitionFor(actorId, deps.config.STREAM_PARTITIONS));
}

export async function runCommand<B>(
  deps: Deps,
  idem: IdempotencyInput,
  work: (tx: Tx) => Promise<CommandResult<B>>,
): Promise<CommandOutcome<B>> {
  const key = parseIdempotencyKey(idem.key, idem.required);
  const fp = key ? fingerprintOf(idem) : "";

  const committed = await deps.sql.begin(async (tx): Promise<Committed<B>> => {
    if (key) {
      if (!(await tryLockKey(tx, idem.userId, idem.route, key))) throw inFlight();
      const stored = await findStoredResponse(tx, idem.userId, idem.route, key);
      if (stored) return { replay: checkReplay(stored, fp) };
    }
    const result = await work(tx);
    const now = new Date();
    const outbox: OutboxRow[] = [];
    for (const e of result.events) {
      const stream = streamOf(deps, e.actorId);
      outbox.push(
        await insertOutbox(tx, {
          shard: shardOf(e.actorId),
          stream,
          event: eventEnvelope(e, now),
        }),
      );
    }
    if (key) {
      await storeResponse(tx, {
        userId: idem.userId,
        route: idem.route,
        key,
        fingerprint: fp,
        status: result.status,
        response: result.body,
        ttlHours: deps.config.IDEMPOTENCY_TTL_HOURS,
      });
    }
    return { result, outbox };
  });

  if ("replay" in committed) return replayOf<B>(committed.replay);
  return finishCommitted(deps, committed.result, committed.outbox);
}

/** A command's transaction: a stored answer to replay, or the result and its outbox rows. */
type Committed<B> = { replay: StoredResponse } | { result: CommandResult<B>; outbox: OutboxRow[] };

/** A command's committed outcome, as its statement (db/idempotency.ts runClaimed) returns it. */
export interface StatementResult<B> {
  status: number;
  body: B;
  /** The outbox rows the statement wrote, to XADD now. */
  outbox: OutboxRow[];
  updateCaches?: () => Promise<void>;
}

/**
 * runCommand's contract in one round trip: `statement` claims the key and writes the rows, the
 * outbox rows and the stored answer in a single statement, and `finish` turns its result row
 * into the answer (it may throw a client error when the statement wrote nothing). Then, as
 * runCommand does: caches, XADD, marks. For the hot commands (text posts, likes), where the
 * BEGIN, lock, lookup, writes, stored answer and COMMIT were seven round trips.
 */
export async function runStatement<B, R>(
  deps: Deps,
  idem: IdempotencyInput,
  statement: (claim: KeyClaim | null) => Promise<ClaimOutcome<R>>,
  finish: (row: R | undefined) => StatementResult<B>,
): Promise<CommandOutcome<B>> {
  const key = parseIdempotencyKey(idem.key, idem.required);
  const claim: KeyClaim | null = key
    ? {
        userId: idem.userId,
        route: idem.route,
        key,
        fingerprint: fingerprintOf(idem),
        ttlHours: deps.config.IDEMPOTENCY_TTL_HOURS,
      }
    : null;
  for (let attempt = 0; ; attempt++) {
    const out = await statement(claim);
    switch (out.kind) {
      case "done": {
        const result = finish(out.row);
        return finishCommitted(deps, result, result.outbox);
      }
      case "busy":
        throw inFlight();
      case "stored":
        return replayOf<B>(checkReplay(out.stored, claim!.fingerprint));
      case "raced": {
        const stored = await findStoredResponse(deps.sql, claim!.userId, claim!.route, claim!.key);
        if (!stored) throw inFlight();
        return replayOf<B>(checkReplay(stored, claim!.fingerprint));
      }
      case "expired":
        if (attempt > 0) throw inFlight();
        await deleteExpiredKey(deps.sql, claim!);
    }
  }
}

async function finishCommitted<B>(
  deps: Deps,
  result: { status: number; body: B; updateCaches?: () => Promise<void> },
  outbox: OutboxRow[],
): Promise<CommandOutcome<B>> {
  // While Redis looks down the event's handler alone brings the cache up to date (it converges
  // on the write model), so the answer does not wait on a hung Redis.
  if (!redisLooksDown(deps.redis)) await result.updateCaches?.().catch(() => {});
  await publishCommitted(deps, outbox);
  return { status: result.status, body: result.body, replayed: false };
}

function inFlight(): AppError {
  return new AppError(
    "idempotency_in_flight",
    "a request with this Idempotency-Key is still being processed; retry shortly",
    { headers: { "retry-after": "1" } },
  );
}

function checkReplay(stored: StoredResponse, fp: string): StoredResponse {
  if (stored.fingerprint !== fp)
    throw new AppError(
      "idempotency_key_reused",
      "this Idempotency-Key was already used with a different request body",
    );
  return stored;
}

function replayOf<B>(stored: StoredResponse): CommandOutcome<B> {
  return { status: stored.status, body: stored.response as B, replayed: true };
}

/** Writes a command's outcome to the response: its status, and the replay marker. */
export function answer<B>(out: CommandOutcome<B>, set: ResponseSet): B {
  set.status = out.status;
  if (out.replayed) set.headers["idempotent-replayed"] = "true";
  return out.body;
}

/** The same for a 204: the outcome's body is kept for replays, but a 204 carries none. */
export function answerNoContent(out: CommandOutcome<unknown>, set: ResponseSet): null {
  answer(out, set);
  set.status = 204;
  return null;
}

/**
 * XADD after commit. A failure here is not the client's problem and not lost: the rows are
 * committed and the sweeper will publish them, so it is logged, never answered as an error.
 */
async function publishCommitted(deps: Deps, rows: OutboxRow[]): Promise<void> {
  if (rows.length === 0) return;
  try {
    await deps.hooks?.afterCommit?.();
    // While Redis is down the sweeper publishes instead: the answer does not wait for Redis.
    const sent = await withRedis(
      deps.redis,
      () => publishEvents(deps.redis, rows).then(() => true),
      () => false,
    );
    if (!sent) return;
    for (const r of rows) deps.metrics.eventsPublished.inc({ type: r.event.type });
    // Marked in a batch a few ms later when the process has one (PublishedMarks below).
    if (deps.publishedMarks) for (const r of rows) deps.publishedMarks.add(r.id);
    else
      await markPublished(
        deps.sql,
        rows.map((r) => r.id),
      );
  } catch (e) {
    console.error(
      JSON.stringify({
        level: "warn",
        msg: "publish after commit failed; the outbox sweeper will retry",
        error: String(e),
      }),
    );
  }
}

/**
 * Outbox rows this process has published, marked in one UPDATE every OUTBOX_MARK_FLUSH_MS
 * instead of one statement and commit per command. A mark lost with the process (or still
 * waiting past OUTBOX_GRACE_MS) makes the sweeper publish the row again: the event's handlers
 * are idempotent (processed_events), so a repeat changes nothing.
 */
export class PublishedMarks extends Batcher<string> {
  constructor(deps: Pick<Deps, "sql" | "config" | "log">) {
    super((ids) => markPublished(deps.sql, ids), {
      flushMs: deps.config.OUTBOX_MARK_FLUSH_MS,
      max: 1_000,
      onError: (e) =>
        deps.log?.({ level: "warn", msg: "outbox rows not marked published; retrying", error: String(e) }),
    });
  }
}
