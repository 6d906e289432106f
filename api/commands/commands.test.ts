import { describe, expect, test } from "bun:test";
import { CreatePostCommand, FollowUserCommand, POST_TEXT_MAX } from "./commands.ts";

describe("command rules", () => {
  test("CreatePostCommand trims and counts characters, not UTF-16 units or bytes", () => {
    expect(CreatePostCommand.parse({ author_id: 1n, text: "  hi  " }).text).toBe("hi");
    expect(CreatePostCommand.safeParse({ author_id: 1n, text: "🙂".repeat(POST_TEXT_MAX) }).success).toBe(
      true,
    );
    expect(CreatePostCommand.safeParse({ author_id: 1n, text: "x".repeat(POST_TEXT_MAX + 1) }).success).toBe(
      false,
    );
    expect(
      CreatePostCommand.safeParse({ author_id: 1n, text: `  ${"x".repeat(POST_TEXT_MAX)}  ` }).success,
    ).toBe(true);
  });

  test("CreatePostCommand refuses empty and whitespace-only text", () => {
    for (const text of ["", "   ", "\n\t"]) {
      const r = CreatePostCommand.safeParse({ author_id: 1n, text });
      expect(r.success).toBe(false);
      expect(r.error?.issues[0]?.message).toContain("empty");
    }
  });

  test("FollowUserCommand refuses following yourself", () => {
    expect(FollowUserCommand.safeParse({ follower_id: 5n, followee_id: 5n }).success).toBe(false);
    expect(FollowUserCommand.safeParse({ follower_id: 5n, followee_id: 6n }).success).toBe(true);
  });

  test("ids must be positive", () => {
    expect(FollowUserCommand.safeParse({ follower_id: 0n, followee_id: 1n }).success).toBe(false);
    expect(FollowUserCommand.safeParse({ follower_id: 1n, followee_id: -1n }).success).toBe(false);
  });
});
