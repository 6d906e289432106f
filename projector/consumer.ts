import { hostname } from "node:os";
import {
  type FeedEvent,
  isEventType,
  isMalformedEvent,
  parseEntry,
  readEntry,
  type StreamEntry,
} from "../core/events.ts";
import { isCluster, type RedisClient } from "../core/redis.ts";
import { publishEvents } from "../core/streams.ts";
import { outboxSince } from "../db/outbox.ts";
import { loadStreamOffset } from "../db/projections.ts";
import { deadLetter } from "./dlq.ts";
import {
  type BatchHandler,
  type BatchHandlerMap,
  type HandlerDeps,
  type HandlerMap,
  handlerOf,
} from "./handlers/types.ts";

// The consumer loop of one consumer group over the partitioned streams: read new entries,
// apply the handler, XACK after its commit. A failure leaves the entry pending and schedules a
// retry with exponential backoff and jitter; after MAX_DELIVERIES the entry moves to feed:dlq.
// Entries left pending by a dead consumer are taken over with XAUTOCLAIM after CLAIM_TIMEOUT_MS.

export interface ConsumerOptions extends HandlerDeps {
  /** A connection of its own for XREADGROUP BLOCK (a client of its own for polling, on a cluster). */
  blocking: RedisClient;
  streams: string[];
  handlers: HandlerMap;
  /** Types handled a read's worth at a time (then, on failure, by `handlers` one by one). */
  batchHandlers?: BatchHandlerMap;
  consumerName?: string;
  readCount?: number;
  blockMs?: number;
  log?: (line: Record<string, unknown>) => void;
}

type Entry = [id: string, fields: string[]];

interface Retry {
  stream: string;
  id: string;
  due: number;
}

const REPUBLISH_MARGIN_MS = 10 * 60_000;
/**
 * On a cluster consumers poll (see readNew): an empty poll waits this long, doubling up to the
 * cap while every stream stays empty. The cap bounds the delay an idle projector adds to the
 * first event after a pause; the floor, the cost of polling while events trickle in.
 */
const POLL_MIN_MS = 5;
const POLL_MAX_MS = 100;

/** Orders stream ids ("<ms>-<seq>") numerically. */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split("-").map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split("-").map(BigInt) as [bigint, bigint];
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
}

/** Exponential backoff with full jitter, capped below the claim timeout. */
export function backoffMs(deliveries: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, deliveries - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

export class Consumer {
  readonly name: string;
  private running = false;
  private loop: Promise<void> | null = null;
  private retries: Retry[] = [];
  private lastClaim = 0;
  private pollWaitMs = POLL_MIN_MS;
  private readonly log: (line: Record<string, unknown>) => void;

  constructor(private readonly o: ConsumerOptions) {
    this.name = o.consumerName ?? `${hostname()}-${process.pid}-${crypto.randomUUID().slice(0, 8)}`;
    this.log = o.log ?? (() => {});
  }

  /** Creates the group on every stream (from the recorded position when there is one). */
  async ensureGroups(): Promise<void> {
    for (const s of this.o.streams) await this.ensureGroup(s);
  }

  private async ensureGroup(stream: string): Promise<void> {
    const { sql, redis, group } = this.o;
    const recorded = await loadStreamOffset(sql, group, stream);
    try {
      await redis.xgroup("CREATE", stream, group, recorded ?? "0", "MKSTREAM");
    } catch (e) {
      if (String(e).includes("BUSYGROUP")) return; // it exists: nothing was lost
      throw e;
    }
    if (recorded) {
      // The group was lost (Redis restarted empty, FLUSHALL, XGROUP DESTROY). Entries after the
      // recorded position may be gone with it: publish them again from the outbox; handlers
      // skip whatever they had already applied. A recreated, empty stream first gets its last
      // id set to the recorded one, so new entries always sort after the group's position even
      // if Redis's clock is behind.
      const info = (await redis.xinfo("STREAM", stream)) as unknown[];
      const lastId = String(info[info.indexOf("last-generated-id") + 1] ?? "0-0");
      if (compareStreamIds(lastId, recorded) < 0) await redis.xsetid(stream, recorded);
      // The outbox's created_at is the committing transaction's start, which can precede its
      // XADD by a long transaction's length: the window reaches well back, duplicates are free.
      const sinceMs = Number(recorded.split("-")[0]) - REPUBLISH_MARGIN_MS;
      let n = 0;
      for (let after = "0"; ; ) {
        const rows = await outboxSince(sql, stream, sinceMs, after, 1000);
        if (rows.length === 0) break;
        await publishEvents(redis, rows);
        n += rows.length;
        after = rows[rows.length - 1]!.id;
      }
      this.log({
        level: "warn",
        msg: "consumer group recreated from recorded position",
        group,
        stream,
        recorded,
        republished: n,
      });
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Finishes the entry in hand, then stops; what was read but not handled stays pending. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** Closes the blocking connection this consumer was given (after stop()). */
  disconnect(): void {
    this.o.blocking.disconnect();
  }

  get isRunning(): boolean {
    return this.running;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.tick();
      } catch (e) {
        if (!this.running) break;
        if (String(e).includes("NOGROUP")) {
          await this.ensureGroups().catch((err) =>
            this.log({ level: "error", msg: "group recovery failed", error: String(err) }),
          );
        } else {
          this.log({ level: "error", msg: "consumer loop error", error: String(e) });
          await Bun.sleep(500);
        }
      }
    }
  }

  /** One pass: due retries, idle claims, then a blocking read of new entries. */
  async tick(): Promise<number> {
    let handled = await this.runDueRetries();
    if (Date.now() - this.lastClaim >= Math.min(this.o.config.CLAIM_TIMEOUT_MS / 2, 5000)) {
      this.lastClaim = Date.now();
      handled += await this.claimIdle();
    }
    const nextRetry = this.retries.reduce((m, r) => Math.min(m, r.due), Number.POSITIVE_INFINITY);
    const block = Math.max(1, Math.min(this.o.blockMs ?? 1000, nextRetry - Date.now()));
    const res = await this.readNew(block);
    // Batches take their events from every partition of the read at once (the bigger the
    // batch, the fewer statements per event); then the partitions' other events are handled
    // side by side, each partition in order. Events of different partitions have different
    // actors, and the handlers are order-independent anyway (handlers/types.ts).
    const rest = this.running ? await this.handleBatches(res) : res;
    handled += res.reduce((n, [, entries]) => n + entries.length, 0);
    handled -= rest.reduce((n, [, entries]) => n + entries.length, 0);
    const counts = await Promise.all(rest.map(([stream, entries]) => this.handleEntries(stream, entries)));
    return counts.reduce((a, b) => a + b, handled);
  }

  /** One partition's entries of a read, in order; returns how many were handled. */
  private async handleEntries(stream: string, singles: Entry[]): Promise<number> {
    let handled = 0;
    for (let i = 0; i < singles.length; i++) {
      if (!this.running) {
        await this.release(
          stream,
          singles.slice(i).map(([id]) => id),
        );
        break;
      }
      const [id, fields] = singles[i]!;
      await this.handle(stream, id, fields);
      handled++;
    }
    return handled;
  }

  /**
   * Hands the entries whose type has a batch handler to it, one call per handler for the whole
   * read; returns the others, per partition, in order. Handlers are order-independent
   * (handlers/types.ts), so taking some events of a read before the rest changes nothing. A
   * batch that fails is handled again entry by entry: each one then retries or goes to the DLQ
   * on its own.
   */
  private async handleBatches(read: [string, Entry[]][]): Promise<[string, Entry[]][]> {
    const { batchHandlers } = this.o;
    if (!batchHandlers) return read;
    type Item = { stream: string; id: string; fields: string[]; event: FeedEvent };
    const batches = new Map<BatchHandler, Item[]>();
    const rest: [string, Entry[]][] = [];
    for (const [stream, entries] of read) {
      const singles: Entry[] = [];
      for (const [id, fields] of entries) {
        const entry = readEntry(fields);
        const batch = isEventType(entry.type) ? batchHandlers[entry.type] : undefined;
        let event: FeedEvent | null = null;
        try {
          if (batch) event = parseEntry(entry);
        } catch {
          // Unreadable: the single path dead-letters it.
        }
        if (!batch || !event || event.type !== entry.type) singles.push([id, fields]);
        else if (batches.has(batch)) batches.get(batch)!.push({ stream, id, fields, event });
        else batches.set(batch, [{ stream, id, fields, event }]);
      }
      if (singles.length > 0) rest.push([stream, singles]);
    }
    const { redis, group, metrics } = this.o;
    for (const [handle, items] of batches) {
      try {
        await handle(
          this.o,
          items.map((i) => i.event),
        );
      } catch (e) {
        this.log({
          level: "warn",
          msg: "batch failed; handling its events one by one",
          group,
          size: items.length,
          error: String(e),
        });
        for (const { stream, id, fields } of items) await this.handle(stream, id, fields);
        continue;
      }
      const acks = new Map<string, string[]>();
      for (const { stream, id } of items) {
        const ids = acks.get(stream);
        if (ids) ids.push(id);
        else acks.set(stream, [id]);
      }
      await Promise.all([...acks].map(([stream, ids]) => redis.xack(stream, group, ...ids)));
      for (const { event } of items) {
        this.observeLag(event);
        metrics.events.inc({ group, type: event.type, outcome: "ok" });
      }
    }
    return rest;
  }

  /**
   * New entries of every stream. Standalone: one XREADGROUP over all partitions, blocking up to
   * `block` ms. On a cluster the partitions sit in different slots, where one command over
   * several streams is CROSSSLOT, and a blocking read per stream would hold a connection per
   * node each: so one non-blocking read per stream, all at once (one round-trip per node), and
   * a short, growing wait when all of them come back empty.
   */
  private async readNew(block: number): Promise<[string, Entry[]][]> {
    const { blocking, group, streams } = this.o;
    const count = this.o.readCount ?? 100;
    if (!isCluster(blocking)) {
      const res = (await blocking.xreadgroup(
        "GROUP",
        group,
        this.name,
        "COUNT",
        count,
        "BLOCK",
        block,
        "STREAMS",
        ...streams,
        ...streams.map(() => ">"),
      )) as [string, Entry[]][] | null;
      return res ?? [];
    }
    const replies = await Promise.all(
      streams.map(
        (s) =>
          blocking.xreadgroup("GROUP", group, this.name, "COUNT", count, "STREAMS", s, ">") as Promise<
            [string, Entry[]][] | null
          >,
      ),
    );
    const res = replies.flatMap((r) => r ?? []).filter(([, entries]) => entries.length > 0);
    if (res.length > 0) {
      this.pollWaitMs = POLL_MIN_MS;
    } else {
      await Bun.sleep(Math.min(this.pollWaitMs, block));
      this.pollWaitMs = Math.min(this.pollWaitMs * 2, POLL_MAX_MS);
    }
    return res;
  }

  /**
   * Entries read but not handled because we are stopping: marked idle for the whole claim
   * timeout, so the next XAUTOCLAIM of any other consumer takes them at once instead of
   * waiting for the timeout to pass.
   */
  private async release(stream: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    // XCLAIM through call(): its typed overloads do not resolve on the Redis | Cluster union.
    await this.o.redis
      .call(
        "xclaim",
        stream,
        this.o.group,
        this.name,
        0,
        ...ids,
        "IDLE",
        this.o.config.CLAIM_TIMEOUT_MS,
        "JUSTID",
      )
      .catch((e) =>
        this.log({ level: "warn", msg: "could not release entries on stop", stream, error: String(e) }),
      );
  }

  /** Applies one entry; acknowledges it on success, schedules a retry or dead-letters on failure. */
  async handle(stream: string, id: string, fields: string[]): Promise<void> {
    const { redis, group, metrics, handlers } = this.o;
    const entry = readEntry(fields);
    let type = entry.type ?? "unknown";
    try {
      const event = parseEntry(entry);
      type = event.type;
      const handler = handlerOf(handlers, event.type);
      if (handler) {
        await handler(this.o, event);
        this.observeLag(event);
      }
      await redis.xack(stream, group, id);
      metrics.events.inc({ group, type, outcome: "ok" });
    } catch (e) {
      await this.fail(stream, id, entry, type, e);
    }
  }

  /** How long after it occurred an event was applied. */
  private observeLag(event: { type: string; occurred_at: string }): void {
    const { group, metrics } = this.o;
    metrics.lag.observe(
      { group, type: event.type },
      Math.max(0, (Date.now() - Date.parse(event.occurred_at)) / 1000),
    );
  }

  private async fail(
    stream: string,
    id: string,
    entry: Partial<StreamEntry>,
    type: string,
    err: unknown,
  ): Promise<void> {
    const { redis, group, config, metrics } = this.o;
    const poison = isMalformedEvent(err);
    const pending = (await redis.xpending(stream, group, id, id, 1)) as [string, string, number, number][];
    const mine = pending[0]?.[1] === this.name;
    if (!mine) {
      // Another consumer claimed it (our handler ran past the claim timeout) or it was already
      // acknowledged: the entry is theirs now, not ours to retry or dead-letter.
      this.log({
        level: "warn",
        msg: "failed entry is no longer ours; leaving it",
        group,
        stream,
        entry_id: id,
        type,
        error: String(err),
      });
      return;
    }
    const deliveries = pending[0]![3];
    const about = { group, stream, entry_id: id, event_id: entry.id, type, deliveries };
    if (poison || deliveries >= config.MAX_DELIVERIES) {
      await deadLetter(redis, { stream, group, entryId: id, entry, error: err, deliveries });
      metrics.events.inc({ group, type, outcome: "dead" });
      this.log({ level: "error", msg: "event dead-lettered", ...about, error: String(err) });
      return;
    }
    const wait = backoffMs(
      deliveries,
      config.RETRY_BASE_MS,
      Math.min(config.RETRY_MAX_MS, config.CLAIM_TIMEOUT_MS / 2),
    );
    this.retries.push({ stream, id, due: Date.now() + wait });
    metrics.events.inc({ group, type, outcome: "retry" });
    this.log({
      level: "warn",
      msg: "event failed; will retry",
      ...about,
      retry_in_ms: wait,
      error: String(err),
    });
  }

  /** Retries whose backoff has passed: XCLAIM (which counts the delivery) and handle again. */
  private async runDueRetries(): Promise<number> {
    const now = Date.now();
    const due = this.retries.filter((r) => r.due <= now);
    if (due.length === 0) return 0;
    this.retries = this.retries.filter((r) => r.due > now);
    let n = 0;
    for (const r of due) {
      if (!this.running) break;
      const claimed = (await this.o.redis.call(
        "xclaim",
        r.stream,
        this.o.group,
        this.name,
        0,
        r.id,
      )) as Entry[];
      for (const entry of claimed) {
        if (!entry?.[1]) continue; // deleted from the stream meanwhile
        await this.handle(r.stream, entry[0], entry[1]);
        n++;
      }
    }
    return n;
  }

  /** Takes over entries idle past the claim timeout (their consumer died), following the cursor. */
  async claimIdle(): Promise<number> {
    const { redis, group, config } = this.o;
    let n = 0;
    for (const stream of this.o.streams) {
      let cursor = "0-0";
      do {
        const [next, entries, deleted] = (await redis.xautoclaim(
          stream,
          group,
          this.name,
          config.CLAIM_TIMEOUT_MS,
          cursor,
          "COUNT",
          100,
        )) as [string, (Entry | null)[], string[]?];
        // Ids whose entries were deleted (trimmed) while pending: nothing to handle, acknowledge.
        if (deleted?.length) await redis.xack(stream, group, ...deleted);
        for (const e of entries) {
          if (!this.running) return n;
          if (!e?.[1]) continue;
          await this.handle(stream, e[0], e[1]);
          n++;
        }
        cursor = next;
      } while (cursor !== "0-0");
    }
    return n;
  }
}
