import { describe, expect, test } from "bun:test";
import {
  composeId,
  ID_EPOCH_MS,
  LOGICAL_SHARDS,
  parseId,
  randomShard,
  shardOf,
  streamPartitionFor,
  timestampOf,
} from "./ids.ts";

describe("ids", () => {
  test("round-trips time and shard", () => {
    const ms = Date.UTC(2026, 10, 27, 12, 0, 0, 123);
    const id = composeId(ms, 1234, 77);
    expect(shardOf(id)).toBe(1234);
    expect(timestampOf(id)).toBe(ms);
    expect(shardOf(id.toString())).toBe(1234);
  });

  test("are time-ordered across shards and sequences", () => {
    const a = composeId(ID_EPOCH_MS + 1000, LOGICAL_SHARDS - 1, 1023);
    const b = composeId(ID_EPOCH_MS + 1001, 0, 0);
    expect(b > a).toBe(true);
  });

  test("stay positive 63-bit numbers for decades", () => {
    const far = composeId(Date.UTC(2090, 0, 1), LOGICAL_SHARDS - 1, 1023);
    expect(far > 0n).toBe(true);
    expect(far <= 0x7fff_ffff_ffff_ffffn).toBe(true);
  });

  test("reject out-of-range shards and pre-epoch times", () => {
    expect(() => composeId(Date.now(), LOGICAL_SHARDS, 0)).toThrow(RangeError);
    expect(() => composeId(Date.now(), -1, 0)).toThrow(RangeError);
    expect(() => composeId(ID_EPOCH_MS - 1, 0, 0)).toThrow(RangeError);
  });

  test("parseId accepts decimal int64 and nothing else", () => {
    expect(parseId("7312950014423042")).toBe(7312950014423042n);
    expect(parseId("9223372036854775807")).toBe(9223372036854775807n);
    for (const bad of [
      "",
      "0",
      "-1",
      "01",
      "1.5",
      "abc",
      "9223372036854775808",
      "99999999999999999999",
      " 1",
    ]) {
      expect(parseId(bad)).toBeNull();
    }
  });

  test("random shards are in range and stream partitions follow the shard", () => {
    for (let i = 0; i < 200; i++) {
      const s = randomShard();
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThan(LOGICAL_SHARDS);
    }
    const id = composeId(Date.now(), 13, 5);
    expect(streamPartitionFor(id, 8)).toBe(13 % 8);
    expect(streamPartitionFor(id.toString(), 1)).toBe(0);
  });
});
