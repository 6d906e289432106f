import { z } from "zod";

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
export const EVENT_TYPES = Object.keys(eventPayloads) as EventType[];

/** The class-style names of DESIGN §4, for logs and docs: PostCreated → PostCreatedEvent. */
export const eventClassName = (t: EventType) => `${t}Event`;

const envelope = <T extends EventType>(type: T) =>
  z.object({
    id,
    type: z.literal(type),
    version: z.literal(1),
    occurred_at: z.iso.datetime({ offset: true }),
    actor_id: id,
    payload: eventPayloads[type],
  });

export const eventSchema = z.discriminatedUnion("type", [
  envelope("PostCreated"),
  envelope("PostLiked"),
  envelope("PostUnliked"),
  envelope("UserFollowed"),
  envelope("UserUnfollowed"),
  envelope("UserRegistered"),
  envelope("PostImageUploaded"),
  envelope("AvatarUpdated"),
]);

export type FeedEvent = z.infer<typeof eventSchema>;
export type EventOf<T extends EventType> = Extract<FeedEvent, { type: T }>;
export type PayloadOf<T extends EventType> = z.infer<(typeof eventPayloads)[T]>;

export function parseEvent(raw: string): FeedEvent {
  return eventSchema.parse(JSON.parse(raw));
}
