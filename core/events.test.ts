import { describe, expect, test } from "bun:test";
import {
  entryFields,
  entryOf,
  eventEnvelope,
  eventPayloads,
  type FeedEvent,
  isEventType,
  isMalformedEvent,
  parseEntry,
  parseEvent,
  readEntry,
} from "./events.ts";

const base = { id: "1", version: 1, occurred_at: "2026-11-27T00:00:00.000Z", actor_id: "2" };

describe("event schemas", () => {
  test("a valid event parses", () => {
    const e = parseEvent(
      JSON.stringify({ ...base, type: "UserFollowed", payload: { follower_id: "2", followee_id: "3" } }),
    );
    expect(e.type).toBe("UserFollowed");
  });

  test("every event type has a schema; an entry's type field is checked against them", () => {
    expect(Object.keys(eventPayloads)).toContain("PostCreated");
    expect(Object.keys(eventPayloads)).toHaveLength(8);
    expect(isEventType("UserRegistered")).toBe(true);
    expect(isEventType("UserRegisteredEvent")).toBe(false);
    expect(isEventType("constructor")).toBe(false);
    expect(isEventType(undefined)).toBe(false);
  });

  test("unknown types, wrong versions, bad ids and missing payload fields are refused", () => {
    expect(() => parseEvent(JSON.stringify({ ...base, type: "Nope", payload: {} }))).toThrow();
    expect(() =>
      parseEvent(
        JSON.stringify({
          ...base,
          version: 2,
          type: "UserFollowed",
          payload: { follower_id: "2", followee_id: "3" },
        }),
      ),
    ).toThrow();
    expect(() =>
      parseEvent(
        JSON.stringify({ ...base, type: "UserFollowed", payload: { follower_id: "x", followee_id: "3" } }),
      ),
    ).toThrow();
    expect(() =>
      parseEvent(JSON.stringify({ ...base, type: "PostLiked", payload: { post_id: "2" } })),
    ).toThrow();
    expect(() => parseEvent("{not json")).toThrow(SyntaxError);
  });
});

describe("event envelopes", () => {
  test("carry type, version 1, time, actor and payload", () => {
    const at = new Date("2026-11-27T10:00:00Z");
    expect(
      eventEnvelope(
        { type: "UserFollowed", actorId: "5", payload: { follower_id: "5", followee_id: "6" } },
        at,
      ),
    ).toEqual({
      type: "UserFollowed",
      version: 1,
      occurred_at: "2026-11-27T10:00:00.000Z",
      actor_id: "5",
      payload: { follower_id: "5", followee_id: "6" },
    });
  });
});

describe("stream entries", () => {
  const event: FeedEvent = {
    id: "1",
    type: "PostLiked",
    version: 1,
    occurred_at: "2026-11-27T00:00:00.000Z",
    actor_id: "2",
    payload: { post_id: "7", user_id: "2", author_id: "3" },
  };

  test("an event's fields are its id, its type and itself as JSON, and parse back to it", () => {
    const fields = entryFields(entryOf(event));
    expect(fields).toEqual(["id", "1", "type", "PostLiked", "event", JSON.stringify(event)]);
    expect(readEntry(fields)).toEqual({ id: "1", type: "PostLiked", event: JSON.stringify(event) });
    expect(parseEntry(readEntry(fields))).toEqual(event);
  });

  test("a malformed entry reads as it is and fails to parse with an error no retry mends", () => {
    const entry = readEntry(["id", "9", "type", "PostCreated", "event", "{broken"]);
    expect(entry).toEqual({ id: "9", type: "PostCreated", event: "{broken" });
    const errorOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e;
      }
      throw new Error("parsed");
    };
    expect(isMalformedEvent(errorOf(() => parseEntry(entry)))).toBe(true);
    expect(isMalformedEvent(errorOf(() => parseEntry(readEntry(["id", "9"]))))).toBe(true);
    const wrong = JSON.stringify({ ...event, payload: { post_id: "x" } });
    expect(isMalformedEvent(errorOf(() => parseEntry({ event: wrong })))).toBe(true);
    expect(isMalformedEvent(new Error("connection reset"))).toBe(false);
  });
});
