import { describe, expect, test } from "bun:test";
import type { Config } from "./config.ts";
import { createStorage } from "./storage.ts";

// Signing sends nothing: these run without any storage server.
const base = {
  S3_ENDPOINT: "http://minio:9000",
  S3_KEY: "key",
  S3_SECRET: "secret-secret",
  S3_BUCKET: "feed-media",
  S3_REGION: "us-east-1",
  MEDIA_URL_TTL_SECONDS: 900,
} as Config;

describe("presigned URLs", () => {
  test("name S3_PUBLIC_ENDPOINT when it is set: the host a browser reaches", async () => {
    const storage = createStorage({ ...base, S3_PUBLIC_ENDPOINT: "http://localhost:9000" })!;
    expect(await storage.url("posts/1/a.webp")).toStartWith(
      "http://localhost:9000/feed-media/posts/1/a.webp?",
    );
    const post = await storage.presignPost("uploads/1/b", "image/png", 10, 60);
    expect(post.url).toStartWith("http://localhost:9000/feed-media");
    storage.close();
  });

  test("name S3_ENDPOINT otherwise", async () => {
    const storage = createStorage(base)!;
    expect(await storage.url("posts/1/a.webp")).toStartWith("http://minio:9000/feed-media/posts/1/a.webp?");
    storage.close();
  });
});
