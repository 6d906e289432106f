import { describe, expect, test } from "bun:test";
import { replayStream } from "./dlq.ts";

describe("dead-letter replay", () => {
  test("letters from before the hash-tagged partitions go back to the partition's new stream", () => {
    expect(replayStream("feed:events:3")).toBe("feed:events:{3}");
    expect(replayStream("feed:events:{3}")).toBe("feed:events:{3}");
    expect(replayStream("something:else")).toBe("something:else");
  });
});
