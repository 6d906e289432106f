import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { openTestDb, type TestDb } from "../db/testing.ts";
import { clientIp, rateSubject } from "./plugins/rate-limit.ts";
import { spawnApi } from "./testing.ts";

// The per-IP sign-in limit behind one trusted proxy (TRUSTED_PROXIES=1), across two real api
// processes that share the budget in Redis: the client is the last X-Forwarded-For hop, so what
// a client writes further left neither buys it more attempts nor spends a victim's budget, and
// IPv6 clients share one budget per /64.

const LIMIT = 3;

let db: TestDb;
const procs: ReturnType<typeof Bun.spawn>[] = [];
const bases: string[] = [];

beforeAll(async () => {
  db = await openTestDb();
  for (let i = 0; i < 2; i++) {
    const api = await spawnApi(db, { TRUSTED_PROXIES: "1", RATE_LIMIT_AUTH_PER_MINUTE: String(LIMIT) });
    procs.push(api.proc);
    bases.push(api.base);
  }
});
afterAll(async () => {
  for (const p of procs) p.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
  await db.close();
});
beforeEach(async () => {
  const stale = await db.redis.keys("rate:*");
  if (stale.length) await db.redis.del(...stale);
});

/** GET /auth/providers through process i % 2 with this X-Forwarded-For. */
const signIn = async (i: number, forwarded: string) =>
  (await fetch(`${bases[i % 2]}/auth/providers`, { headers: { "x-forwarded-for": forwarded } })).status;

describe("X-Forwarded-For behind one trusted proxy, two api processes", () => {
  test("a client rotating what it writes left of the proxy's hop gets no more attempts", async () => {
    const statuses = [];
    for (let i = 0; i < LIMIT + 2; i++) statuses.push(await signIn(i, `10.9.9.${i}, 198.51.100.7`));
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });

  test("a client cannot spend a victim's budget by naming the victim's address", async () => {
    for (let i = 0; i < LIMIT + 2; i++) await signIn(i, "203.0.113.5, 198.51.100.8");
    expect(await signIn(0, "198.51.100.8")).toBe(429);
    // The victim, whose own address the proxy appended: untouched on either process.
    expect(await signIn(0, "203.0.113.5")).toBe(200);
    expect(await signIn(1, "203.0.113.5")).toBe(200);
  });

  test("IPv6 clients share one budget per /64", async () => {
    const sameNet = ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::9", "2001:db8:1:2::abcd"];
    expect(await Promise.all(sameNet.map((a, i) => signIn(i, a)))).toContain(429);
    expect(await signIn(0, "2001:db8:1:3::1")).toBe(200);
  });
});

describe("clientIp and rateSubject", () => {
  const req = (xff?: string) => new Request("http://x/", { headers: xff ? { "x-forwarded-for": xff } : {} });
  const socket = { requestIP: () => ({ address: "10.0.0.2" }) };
  const withProxies = (n: number) => ({ ...db.config, TRUSTED_PROXIES: n });

  test("takes the address as many hops from the right as there are trusted proxies", () => {
    expect(clientIp(withProxies(0), req("1.1.1.1"), socket)).toBe("10.0.0.2");
    expect(clientIp(withProxies(1), req("6.6.6.6, 1.1.1.1"), socket)).toBe("1.1.1.1");
    expect(clientIp(withProxies(2), req("6.6.6.6, 1.1.1.1, 10.0.0.9"), socket)).toBe("1.1.1.1");
    // A request that came round the proxy: the chain is short, its leftmost entry is used.
    expect(clientIp(withProxies(2), req(), socket)).toBe("10.0.0.2");
    expect(clientIp(withProxies(1), req(), null)).toBe("unknown");
  });

  test("IPv4 as is (mapped ones too), IPv6 by /64", () => {
    expect(rateSubject("192.0.2.1")).toBe("192.0.2.1");
    expect(rateSubject("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(rateSubject("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
    expect(rateSubject("2001:db8:1:2::9")).toBe("2001:db8:1:2::/64");
    expect(rateSubject("unknown")).toBe("unknown");
  });
});
