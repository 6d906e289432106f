import { describe, expect, test } from "bun:test";
import type { RedisClient } from "./redis.ts";
import { redisLooksDown, withRedis } from "./redis-breaker.ts";

// The breaker keys its state by the client object; these tests never send a command.
const client = () => ({}) as RedisClient;
const timedOut = () => Promise.reject(new Error("Command timed out"));

describe("withRedis", () => {
  test("an outage answers the fallback and opens the breaker; work is skipped while it is open", async () => {
    const redis = client();
    expect(await withRedis(redis, timedOut, () => "fallback", 60_000)).toBe("fallback");
    expect(redisLooksDown(redis)).toBe(true);
    let ran = false;
    const out = await withRedis(
      redis,
      async () => {
        ran = true;
        return "redis";
      },
      () => "fallback",
    );
    expect(out).toBe("fallback");
    expect(ran).toBe(false);
  });

  test("after the window one request probes; the others skip until it answers, then all go through", async () => {
    const redis = client();
    await withRedis(redis, timedOut, () => null, 1);
    await Bun.sleep(5);
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const probe = withRedis(
      redis,
      () => held.then(() => "redis"),
      () => "fallback",
    );
    // While the probe is out, another request does not wait on Redis.
    expect(
      await withRedis(
        redis,
        async () => "redis",
        () => "fallback",
      ),
    ).toBe("fallback");
    release();
    expect(await probe).toBe("redis");
    expect(redisLooksDown(redis)).toBe(false);
    expect(
      await withRedis(
        redis,
        async () => "redis",
        () => "fallback",
      ),
    ).toBe("redis");
  });

  test("a failed probe opens it again", async () => {
    const redis = client();
    await withRedis(redis, timedOut, () => null, 1);
    await Bun.sleep(5);
    expect(await withRedis(redis, timedOut, () => "fallback", 60_000)).toBe("fallback");
    expect(redisLooksDown(redis)).toBe(true);
  });

  test("errors that are not outages are thrown and leave the breaker closed", async () => {
    const redis = client();
    const wrongType = () =>
      Promise.reject(new Error("WRONGTYPE Operation against a key holding the wrong kind of value"));
    await expect(withRedis(redis, wrongType, () => "fallback")).rejects.toThrow(/WRONGTYPE/);
    expect(redisLooksDown(redis)).toBe(false);
  });
});
