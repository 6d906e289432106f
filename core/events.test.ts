import { describe, expect, test } from "bun:test";
import { EVENT_TYPES, eventClassName, parseEvent } from "./events.ts";

const base = { id: "1", version: 1, occurred_at: "2026-11-27T00:00:00.000Z", actor_id: "2" };

describe("event schemas", () => {
  test("a valid event parses", () => {
    const e = parseEvent(
      JSON.stringify({ ...base, type: "UserFollowed", payload: { follower_id: "2", followee_id: "3" } }),
    );
    expect(e.type).toBe("UserFollowed");
  });

  test("every event type has a schema and a class-style name", () => {
    expect(EVENT_TYPES).toContain("PostCreated");
    expect(EVENT_TYPES.map(eventClassName)).toContain("UserRegisteredEvent");
    expect(EVENT_TYPES).toHaveLength(8);
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
