import { describe, expect, test } from "bun:test";
import { tracingChannel } from "node:diagnostics_channel";
import { groupBySlot, slotOf } from "./redis.ts";
import { keys } from "./redis-keys.ts";

describe("hash slots", () => {
  test("CRC16 of the key, as Redis Cluster computes it", () => {
    // Values of CLUSTER KEYSLOT on a real server (the cluster test checks more against one).
    expect(slotOf("foo")).toBe(12182);
    expect(slotOf("bar")).toBe(5061);
    expect(slotOf("hello")).toBe(866);
    expect(slotOf("123456789")).toBe(0x31c3); // the CRC16/XMODEM check value
  });

  test("only the first non-empty {tag} is hashed", () => {
    expect(slotOf("{user1000}.following")).toBe(slotOf("{user1000}.followers"));
    expect(slotOf("{user1000}.following")).toBe(slotOf("user1000"));
    expect(slotOf("foo{bar}{zap}")).toBe(slotOf("bar"));
    expect(slotOf("foo{{bar}}zap")).toBe(slotOf("{bar"));
    // An empty first tag hashes the whole key (Redis's keyHashSlot).
    expect(slotOf("foo{}{bar}")).not.toBe(slotOf("bar"));
    expect(slotOf("no-closing{brace")).toBe(slotOf("no-closing{brace"));
  });

  test("a reader's keys share a slot; a post's body and count share one", () => {
    const reader = "251877496099594703";
    const slot = slotOf(keys.feedHead(reader));
    expect(slotOf(keys.pullFollows(reader))).toBe(slot);
    expect(slotOf(keys.readerSeen(reader))).toBe(slot);
    expect(slotOf(keys.postStats("7312950014423042"))).toBe(slotOf(keys.post("7312950014423042")));
    expect(keys.stream(3)).toBe("feed:events:{3}");
  });

  test("groups by slot, keeping first-seen order", () => {
    const ks = ["post:{1}", "post:{2}", "post:stats:{1}", "post:stats:{2}", "post:{1}"];
    expect(groupBySlot(ks, (k) => k)).toEqual([
      ["post:{1}", "post:stats:{1}", "post:{1}"],
      ["post:{2}", "post:stats:{2}"],
    ]);
    expect(groupBySlot([], (k: string) => k)).toEqual([]);
  });
});

describe("ioredis tracing under Bun", () => {
  test("a tracing channel has subscribers only once something subscribes to it", () => {
    const channel = tracingChannel("ioredis:command");
    // What ioredis asks before tracing a command (Bun lacks the getter; redis.ts adds Node's).
    expect(channel.hasSubscribers).toBe(false);
    const onStart = () => {};
    channel.start.subscribe(onStart);
    expect(channel.hasSubscribers).toBe(true);
    channel.start.unsubscribe(onStart);
    expect(channel.hasSubscribers).toBe(false);
  });
});
