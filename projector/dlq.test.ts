import { describe, expect, test } from "bun:test";
import { letterFields, letterOf } from "./dlq.ts";

describe("dead letters", () => {
  test("are written with the fields replay and `./dev dlq list` read back", () => {
    const at = new Date("2026-11-27T10:00:00Z");
    const fields = letterFields(
      {
        stream: "feed:events:{3}",
        group: "projector",
        entryId: "1-0",
        entry: { id: "9", type: "PostLiked", event: "{broken" },
        error: new Error("boom"),
        deliveries: 3,
      },
      at,
    );
    expect(fields.filter((_, i) => i % 2 === 0)).toEqual([
      "stream",
      "group",
      "entry_id",
      "event_id",
      "type",
      "event",
      "error",
      "deliveries",
      "failed_at",
    ]);
    expect(letterOf("5-0", fields)).toEqual({
      dlq_id: "5-0",
      stream: "feed:events:{3}",
      group: "projector",
      entry_id: "1-0",
      event_id: "9",
      type: "PostLiked",
      error: "boom",
      deliveries: 3,
      failed_at: "2026-11-27T10:00:00.000Z",
      event: "{broken",
    });
  });

  test("keep an entry's missing fields as empty strings and a thrown value without a message as text", () => {
    const fields = letterFields({
      stream: "s",
      group: "g",
      entryId: "1-0",
      entry: {},
      error: "plain",
      deliveries: 1,
    });
    expect(letterOf("5-0", fields)).toMatchObject({ event_id: "", type: "", event: "", error: "plain" });
  });
});
