import { z } from "zod";

// The event format, in one place: the event types and their payloads, the envelope a command
// records in the outbox, and a stream entry's fields (written by publishEvents, read by the
// projector's consumer, carried as they came through the dead-letter stream and back).
//
// Every event is an envelope {id, type, version, occurred_at, actor_id, payload}; its id is the
// outbox row's id. Events are notifications: handlers converge on the write model, so payloads
// carry what a handler needs to find the state, not a copy of it.

const id = z.string().regex(/^[1-9][0-9]{0,18}$/, "a decimal id");

export const eventPayloads = {
  PostCreated: z.object({ post_id: id, author_id: id, created_at: z.iso.datetime({ offset: true }) }),
  PostLiked: z.object({ post_id: id, user_id: id, author_id: id }),
  PostUnliked: z.object({ post_id: id, user_id: id, author_id: id }),
  UserFollowed: z.object({ follower_id: id, followee_id: id }),
  UserUnfollowed: z.object({ follower_id: id, followee_id: id }),
  UserRegistered: z.object({ user_id: id, handle: z.string() }),
  PostImageUploaded: z.object({
    post_id: id,
    author_id: id,
    key: z.string(),
    previous_key: z.string().nullable(),
  }),
  AvatarUpdated: z.object({ user_id: id, key: z.string(), previous_key: z.string().nullable() }),
} as const;

export type EventType = keyof typeof eventPayloads;
export type PayloadOf<T extends EventType> = z.infer<(typeof eventPayloads)[T]>;

/** A stream entry's `type` field names an event type (the entry is not parsed yet). */
export function isEventType(type: string | undefined): type is EventType {
  return type !== undefined && Object.hasOwn(eventPayloads, type);
}

const envelope = <T extends EventType>(type: T) =>
  z.object({
    id,
    type: z.literal(type),
    version: z.literal(1),
    occurred_at: z.iso.datetime({ offset: true }),
    actor_id: id,
    payload: eventPayloads[type],
  });

const eventSchema = z.discriminatedUnion("type", [
  envelope("PostCreated"),
  envelope("PostLiked"),
  envelope("PostUnliked"),
  envelope("UserFollowed"),
  envelope("UserUnfollowed"),
  envelope("UserRegistered"),
  envelope("PostImageUploaded"),
  envelope("AvatarUpdated"),
]);

/** An event as published and handled: a union discriminated by `type`. */
export type FeedEvent = z.infer<typeof eventSchema>;
export type EventOf<T extends EventType> = Extract<FeedEvent, { type: T }>;

/** What a command emits: an event of one type, by its actor (a union discriminated by `type`). */
export type DraftEvent<T extends EventType = EventType> = {
  [K in T]: { type: K; actorId: string; payload: PayloadOf<K> };
}[T];

/** An envelope before the outbox gives it its id (db/outbox.ts writes the row's id into it). */
export type NewEvent<T extends EventType = EventType> = { [K in T]: Omit<EventOf<K>, "id"> }[T];

/** The envelope of a command's event, as the outbox records it (less the id). */
export function eventEnvelope(draft: DraftEvent, occurredAt: Date): NewEvent {
  const { actorId, ...event } = draft;
  return { ...event, version: 1, occurred_at: occurredAt.toISOString(), actor_id: actorId };
}

export function parseEvent(raw: string): FeedEvent {
  return eventSchema.parse(JSON.parse(raw));
}

/**
 * An error that no retry can mend: the entry's event is not JSON, or not a valid event. The
 * consumer dead-letters it at once.
 */
export function isMalformedEvent(err: unknown): boolean {
  return err instanceof SyntaxError || err instanceof z.ZodError;
}

/**
 * A stream entry: the event's id and type beside the event as JSON, so that a reader routes,
 * counts and logs an entry before (or without) parsing it, and a malformed entry travels to the
 * dead-letter stream and back as it came.
 */
export interface StreamEntry {
  id: string;
  type: string;
  event: string;
}

/** An event's stream entry. */
export function entryOf(event: FeedEvent): StreamEntry {
  return { id: event.id, type: event.type, event: JSON.stringify(event) };
}

/** A stream entry → the field list XADD takes: id, type, event. */
export function entryFields(entry: StreamEntry): string[] {
  return ["id", entry.id, "type", entry.type, "event", entry.event];
}

/** Field list of a stream entry (XREADGROUP, XRANGE) → object. */
export function fieldsOf(fields: string[]): Record<string, string> {
  const o: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) o[fields[i]!] = fields[i + 1]!;
  return o;
}

/** A stream entry's fields, as read: nothing parsed yet, any of them possibly missing. */
export function readEntry(fields: string[]): Partial<StreamEntry> {
  const { id, type, event } = fieldsOf(fields);
  return { id, type, event };
}

/** The event of a stream entry, validated; throws a malformed entry's error (isMalformedEvent). */
export function parseEntry(entry: Partial<StreamEntry>): FeedEvent {
  return parseEvent(entry.event ?? "");
}
