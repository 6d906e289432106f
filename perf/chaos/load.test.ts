import { afterAll, expect, test } from "bun:test";
import { ChaosLoad } from "./load.ts";

// The load generator against a loopback server that only records what it is sent: the subject
// is the generator's own bookkeeping, not the api.
const seen: { user: string; method: string; path: string; postId?: string }[] = [];
let nextPost = 1;
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(req) {
    const url = new URL(req.url);
    const user = (req.headers.get("authorization") ?? "").replace("Bearer ", "");
    if (req.method === "POST" && url.pathname === "/posts") {
      seen.push({ user, method: "post", path: url.pathname });
      return Response.json({ id: String(nextPost++) }, { status: 201 });
    }
    if (req.method === "POST" && url.pathname === "/likes") {
      const body = (await req.json()) as { post_id: string };
      seen.push({ user, method: "like", path: url.pathname, postId: body.post_id });
      return new Response(null, { status: 204 });
    }
    if (req.method === "DELETE" && url.pathname.startsWith("/likes/")) {
      seen.push({ user, method: "unlike", path: url.pathname, postId: url.pathname.slice(7) });
      return new Response(null, { status: 204 });
    }
    if (req.method === "GET") return Response.json({ items: [] });
    return new Response(null, { status: 204 });
  },
});
afterAll(() => server.stop(true));

test("likesPerUser: no user ever holds more likes than the bound, and unlikes take their own", async () => {
  const users = [
    { id: "1", token: "u1" },
    { id: "2", token: "u2" },
  ];
  const load = new ChaosLoad({
    base: `http://127.0.0.1:${server.port}`,
    users,
    celebrity: { id: "9", token: "u9" },
    rate: 300,
    runId: "t",
    seed: 5,
    timeoutMs: 2_000,
    likesPerUser: 3,
  });
  load.start();
  await Bun.sleep(2_000);
  await load.stop();

  const held = new Map<string, Set<string>>();
  // An unlike takes one of the user's own likes; only a user holding none unlikes a random post.
  let strayUnlikes = 0;
  let peak = 0;
  for (const r of seen.filter((x) => x.method !== "post")) {
    const mine = held.get(r.user) ?? new Set<string>();
    held.set(r.user, mine);
    if (r.method === "like") mine.add(r.postId!);
    else if (!mine.delete(r.postId!) && mine.size > 0) strayUnlikes++;
    peak = Math.max(peak, mine.size);
  }
  expect(seen.filter((r) => r.method === "like").length).toBeGreaterThan(20);
  expect(seen.filter((r) => r.method === "unlike").length).toBeGreaterThan(10);
  // Requests race on the way in, so an unlike may arrive just before its like; the bound holds
  // for what was sent, in order, up to that reordering.
  expect(peak).toBeLessThanOrEqual(3 + 1);
  expect(strayUnlikes).toBeLessThanOrEqual(1);
});

test("posts come from the users, the celebrity now and then (both fan-out paths are loaded)", async () => {
  seen.length = 0;
  const load = new ChaosLoad({
    base: `http://127.0.0.1:${server.port}`,
    users: [
      { id: "1", token: "u1" },
      { id: "2", token: "u2" },
    ],
    celebrity: { id: "9", token: "u9" },
    rate: 400,
    runId: "t",
    seed: 3,
    timeoutMs: 2_000,
  });
  load.start();
  await Bun.sleep(1_500);
  await load.stop();
  const posts = seen.filter((r) => r.method === "post");
  const celebrity = posts.filter((r) => r.user === "u9").length;
  const users = posts.filter((r) => r.user === "u1" || r.user === "u2").length;
  expect(users).toBeGreaterThan(40);
  expect(celebrity).toBeGreaterThan(0);
  expect(celebrity).toBeLessThan(users / 5);
});
