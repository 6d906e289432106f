import { describe, expect, test } from "bun:test";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import { AppError } from "./errors.ts";

describe("cursor codec", () => {
  test("round-trips a position and is opaque", () => {
    const c = encodeCursor("feed", { at: 1_764_201_600_123, id: "7312950014423042" });
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(c).not.toContain("7312950014423042");
    expect(decodeCursor("feed", c)).toEqual({ at: 1_764_201_600_123, id: "7312950014423042" });
  });

  test("refuses a cursor of another list", () => {
    const c = encodeCursor("user_posts", { at: 1, id: "2" });
    expect(() => decodeCursor("feed", c)).toThrow(/another list/);
  });

  test.each([
    ["empty", ""],
    ["garbage", "not a cursor!"],
    ["valid base64 of junk", Buffer.from("hello").toString("base64url")],
    ["wrong arity", Buffer.from("feed.1").toString("base64url")],
    ["non-numeric time", Buffer.from("feed.x.1").toString("base64url")],
    ["non-numeric id", Buffer.from("feed.1.abc").toString("base64url")],
    ["unknown kind", Buffer.from("nope.1.1").toString("base64url")],
    ["too long", "a".repeat(200)],
  ])("refuses %s with invalid_cursor", (_name, raw) => {
    try {
      decodeCursor("feed", raw);
      throw new Error("accepted");
    } catch (e) {
      expect(e).toBeInstanceOf(AppError);
      expect((e as AppError).code).toBe("invalid_cursor");
      expect((e as AppError).status).toBe(400);
    }
  });
});
