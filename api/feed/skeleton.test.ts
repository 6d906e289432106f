import { describe, expect, test } from "bun:test";
import { buildToken, HEAD_SENTINEL } from "../../core/redis-keys.ts";
import { mergePage } from "./skeleton.ts";

const it = (at: number, id: string) => ({ at, id });

describe("feed page merge", () => {
  test("merges sources newest first, by time then id, without duplicates", () => {
    const pushed = [it(50, "500"), it(30, "300"), it(10, "100")];
    const pulled = [it(40, "400"), it(30, "300"), it(30, "301"), it(5, "50")];
    expect(mergePage([pushed, pulled], null, 10).map((i) => i.id)).toEqual([
      "500",
      "400",
      "301",
      "300",
      "100",
      "50",
    ]);
  });

  test("keeps only items strictly after the cursor, including ties on the millisecond", () => {
    const src = [it(30, "302"), it(30, "301"), it(30, "300"), it(20, "200")];
    expect(mergePage([src], { at: 30, id: "301" }, 10).map((i) => i.id)).toEqual(["300", "200"]);
  });

  test("takes at most n and drops the markers (the sentinel, a rebuild's token)", () => {
    const src = [
      it(Number.POSITIVE_INFINITY, HEAD_SENTINEL),
      it(Number.POSITIVE_INFINITY, buildToken()),
      it(3, "3"),
      it(2, "2"),
      it(1, "1"),
    ];
    expect(mergePage([src], null, 3).map((i) => i.id)).toEqual(["3", "2", "1"]);
  });

  test("compares ids as 64-bit integers, not as strings or doubles", () => {
    const a = it(7, "9007199254740993"); // 2^53 + 1: a double would round it to 2^53
    const b = it(7, "9007199254740992");
    const c = it(7, "999");
    expect(mergePage([[c, b, a]], null, 3).map((i) => i.id)).toEqual([a.id, b.id, c.id]);
  });
});
