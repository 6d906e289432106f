import { SignJWT } from "jose";
import sharp from "sharp";
import { startSession } from "../../api/auth/session.ts";
import { signAccessToken } from "../../core/tokens.ts";
import { listDeadLetters } from "../../projector/dlq.ts";
import type { FuzzTarget } from "./target.ts";
import { type UserRows, userRowsOf } from "./user-rows.ts";

// The people and things the fuzzer's requests are about. A (the actor) sends every request that
// carries a valid token; B (the victim) owns posts, an image, an avatar, likes, follows and a
// session, set up through the api before the run and audited after it; C is a bystander whom
// only B follows, whose post only B liked. Tokens of every broken kind are minted here.

export interface Person {
  id: string;
  token: string;
  postIds: string[];
}

export interface FuzzWorld {
  actor: Person & { refreshTokens: string[] };
  victim: Person & { refreshToken: string; uploadKey: string; rows: UserRows };
  bystander: Person;
  /** Valid ids nobody has (well-formed, in range). */
  missingPostId: string;
  missingUserId: string;
  /** Cursors the api gave out: the actor's feed and the victim's posts, page one. */
  cursors: { feed: string[]; userPosts: string[] };
  /** Access tokens that must all be refused, by what is wrong with them. */
  badTokens: Record<string, string>;
  /** base64 images: valid ones and ones that look like images but are not. */
  images: Record<string, { bytes: string; type: string; filename: string }>;
  /** The load-test signer's secret when the app has it (./dev sets one): its right header. */
  loadTestSecret: string | undefined;
  /** Sealed login cookies with the state they were issued for (GET /auth/oidc/login). */
  logins: { cookie: string; state: string }[];
}

interface CallOptions {
  token?: string;
  json?: unknown;
  form?: FormData;
  headers?: Record<string, string>;
}

/** One request through the app during setup; anything but the expected status stops the run. */
export async function callApp(
  t: FuzzTarget,
  method: string,
  path: string,
  expect: number,
  o: CallOptions = {},
) {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  let body: RequestInit["body"] | undefined = o.form;
  if (o.json !== undefined) {
    body = JSON.stringify(o.json);
    headers["content-type"] = "application/json";
  }
  const res = await t.handle(new Request(`http://localhost${path}`, { method, headers, body }));
  const text = await res.text();
  if (res.status !== expect) throw new Error(`setup: ${method} ${path} answered ${res.status}: ${text}`);
  return { headers: res.headers, body: text ? JSON.parse(text) : null };
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");

async function makeImages() {
  const png = await sharp({ create: { width: 8, height: 6, channels: 3, background: "#c63" } })
    .png()
    .toBuffer();
  const jpeg = await sharp({ create: { width: 8, height: 6, channels: 3, background: "#36c" } })
    .jpeg()
    .toBuffer();
  const webp = await sharp({ create: { width: 8, height: 6, channels: 3, background: "#3c6" } })
    .webp()
    .toBuffer();
  // A valid PNG header that claims 100 000 × 100 000 pixels: the decoding limit must refuse it.
  const bomb = Buffer.from(png);
  bomb.writeUInt32BE(100_000, 16);
  bomb.writeUInt32BE(100_000, 20);
  return {
    png: { bytes: b64(png), type: "image/png", filename: "a.png" },
    jpeg: { bytes: b64(jpeg), type: "image/jpeg", filename: "a.jpg" },
    webp: { bytes: b64(webp), type: "image/webp", filename: "a.webp" },
    truncatedPng: { bytes: b64(png.subarray(0, 40)), type: "image/png", filename: "t.png" },
    pixelBomb: { bytes: b64(bomb), type: "image/png", filename: "bomb.png" },
    jpegMagicGarbage: {
      bytes: b64(Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 0x41)])),
      type: "image/jpeg",
      filename: "g.jpg",
    },
    svg: {
      bytes: b64(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')),
      type: "image/svg+xml",
      filename: "x.svg",
    },
    gif: {
      bytes: b64(Buffer.from("GIF89a\x01\x00\x01\x00\x00\x00\x00;", "latin1")),
      type: "image/gif",
      filename: "x.gif",
    },
    empty: { bytes: "", type: "image/png", filename: "empty.png" },
    pngNamedTxt: { bytes: b64(png), type: "text/plain", filename: "notes.txt" },
  };
}

async function makeBadTokens(t: FuzzTarget, actor: Person): Promise<Record<string, string>> {
  const c = t.db.config;
  const key = new TextEncoder().encode(c.JWT_SECRET);
  const now = Math.floor(Date.now() / 1000);
  const claims = (sub: string, iat: number, exp: number) =>
    new SignJWT({})
      .setSubject(sub)
      .setIssuer(c.JWT_ISSUER)
      .setAudience(c.JWT_AUDIENCE)
      .setJti(crypto.randomUUID())
      .setIssuedAt(iat)
      .setExpirationTime(exp);
  const signed = (j: SignJWT, typ = "at+jwt", secret = key) =>
    j.setProtectedHeader({ alg: "HS256", typ }).sign(secret);
  const [head, payload] = actor.token.split(".");
  const none = `${Buffer.from(JSON.stringify({ alg: "none", typ: "at+jwt" })).toString("base64url")}.${payload}.`;
  const flipped = `${actor.token.slice(0, -2)}${actor.token.endsWith("AA") ? "BB" : "AA"}`;
  return {
    expired: await signed(claims(actor.id, now - 1000, now - 100)),
    notYetIssued: await signed(claims(actor.id, now + 3600, now + 3900)),
    tooLong: await signed(claims(actor.id, now, now + 86_400)),
    otherSecret: await signed(
      claims(actor.id, now, now + 600),
      "at+jwt",
      new TextEncoder().encode("x".repeat(40)),
    ),
    wrongTyp: await signed(claims(actor.id, now, now + 600), "JWT"),
    wrongAudience: await signed(claims(actor.id, now, now + 600).setAudience("someone-else")),
    wrongIssuer: await signed(claims(actor.id, now, now + 600).setIssuer("https://evil.example")),
    nonNumericSubject: await signed(claims("admin", now, now + 600)),
    overflowSubject: await signed(claims("99999999999999999999", now, now + 600)),
    unknownUser: (await signAccessToken(c, "4611686018427387904")).token,
    algNone: none,
    badSignature: flipped,
    headerOnly: `${head}..`,
    garbage: "not-a-jwt",
    huge: "a".repeat(16_000),
  };
}

/** Creates A, B and C and everything of theirs the requests will be about. */
export async function buildWorld(t: FuzzTarget): Promise<FuzzWorld> {
  // Handles unique per run: a process may build several worlds (the test suite does).
  const run = Math.floor(Math.random() * 1e6);
  const [a, b, c] = await Promise.all(["a", "b", "c"].map((h) => t.db.makeUser(`fuzz_${h}_${run}`)));
  const person = (u: { id: string; token: string }): Person => ({ id: u.id, token: u.token, postIds: [] });
  const actor = person(a!);
  const victim = person(b!);
  const bystander = person(c!);
  const images = await makeImages();
  let n = 0;
  const post = async (p: Person, text: string) => {
    const r = await callApp(t, "POST", "/posts", 201, {
      token: p.token,
      json: { text },
      headers: { "idempotency-key": `setup-${p.id}-${++n}` },
    });
    p.postIds.push(r.body.id);
  };
  for (let i = 0; i < 4; i++) await post(victim, `B's post ${i} 🙂`);
  for (let i = 0; i < 3; i++) await post(actor, `A's post ${i}`);
  await post(bystander, "C's post");

  const file = (img: { bytes: string; type: string; filename: string }) => {
    const form = new FormData();
    form.append("file", new File([Buffer.from(img.bytes, "base64")], img.filename, { type: img.type }));
    return form;
  };
  await callApp(t, "PUT", `/posts/${victim.postIds[0]}/image`, 200, {
    token: victim.token,
    form: file(images.png),
  });
  await callApp(t, "PUT", `/posts/${actor.postIds[0]}/image`, 200, {
    token: actor.token,
    form: file(images.jpeg),
  });
  await callApp(t, "PUT", "/me/avatar", 200, { token: victim.token, form: file(images.webp) });
  const upload = await callApp(t, "POST", "/uploads", 200, {
    token: victim.token,
    json: { purpose: "post_image", content_type: "image/png", size: 1000 },
  });

  const like = (p: Person, postId: string) =>
    callApp(t, "POST", "/likes", 201, { token: p.token, json: { post_id: postId } });
  const follow = (p: Person, userId: string) =>
    callApp(t, "POST", "/follows", 201, { token: p.token, json: { user_id: userId } });
  await like(victim, victim.postIds[0]!);
  await like(victim, actor.postIds[0]!);
  await like(victim, bystander.postIds[0]!);
  await like(actor, victim.postIds[1]!);
  await follow(victim, actor.id);
  await follow(victim, bystander.id);
  await follow(actor, victim.id);
  await t.projector.settle(30_000);

  const feed = await callApp(t, "GET", "/feed?limit=2", 200, { token: actor.token });
  const userPosts = await callApp(t, "GET", `/users/${victim.id}/posts?limit=1`, 200, { token: actor.token });
  const feed2 = await callApp(t, "GET", `/feed?limit=1&cursor=${feed.body.next_cursor}`, 200, {
    token: actor.token,
  });

  const sessions = await Promise.all(
    Array.from({ length: 12 }, () => startSession(t.deps, { ...a!, avatar_key: null })),
  );
  const victimSession = await startSession(t.deps, { ...b!, avatar_key: null });

  const logins: { cookie: string; state: string }[] = [];
  for (let i = 0; i < 6; i++) {
    const r = await callApp(t, "GET", `/auth/oidc/login?login_hint=fuzz_${i}`, 302);
    logins.push({
      cookie: (r.headers.get("set-cookie") ?? "").split(";")[0]!,
      state: new URL(r.headers.get("location")!).searchParams.get("state")!,
    });
  }

  return {
    actor: { ...actor, refreshTokens: sessions.map((s) => s.refresh_token) },
    victim: {
      ...victim,
      refreshToken: victimSession.refresh_token,
      uploadKey: upload.body.key,
      rows: await userRowsOf(t.db.sql, victim.id),
    },
    bystander,
    missingPostId: "9223372036854775807",
    missingUserId: "4611686018427387904",
    cursors: {
      feed: [feed.body.next_cursor, feed2.body.next_cursor].filter(Boolean),
      userPosts: [userPosts.body.next_cursor].filter(Boolean),
    },
    badTokens: await makeBadTokens(t, actor),
    images,
    loadTestSecret: t.db.config.LOAD_TEST_SECRET,
    logins,
  };
}

/**
 * After the run: B's rows are exactly what they were, A never gained the sentinels, B's session
 * still refreshes, nothing was dead-lettered and the api is still ready.
 */
export async function auditWorld(t: FuzzTarget, w: FuzzWorld): Promise<string[]> {
  const out: string[] = [];
  await t.projector
    .settle(60_000)
    .catch((e) => out.push(`the projector did not drain: ${(e as Error).message}`));
  const now = await userRowsOf(t.db.sql, w.victim.id);
  const before = w.victim.rows;
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  if (!same(now.likes, before.likes))
    out.push(`B's likes changed: ${JSON.stringify(before.likes)} → ${JSON.stringify(now.likes)}`);
  if (!same(now.follows, before.follows))
    out.push(`B's follows changed: ${JSON.stringify(before.follows)} → ${JSON.stringify(now.follows)}`);
  if (!same(now.posts, before.posts)) out.push("B's posts (text or image) changed");
  if (now.avatar_key !== before.avatar_key) out.push("B's avatar changed");
  if (now.live_refresh_tokens !== before.live_refresh_tokens)
    out.push(`B's live refresh tokens: ${before.live_refresh_tokens} → ${now.live_refresh_tokens}`);
  const actorRows = await userRowsOf(t.db.sql, w.actor.id);
  if (actorRows.follows.includes(w.bystander.id))
    out.push("A follows the sentinel user (the generator must never ask)");
  if (actorRows.likes.includes(w.bystander.postIds[0]!))
    out.push("A likes the sentinel post (the generator must never ask)");
  const refreshed = await t.handle(
    new Request("http://localhost/auth/refresh", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: w.victim.refreshToken }),
    }),
  );
  const session = (await refreshed.json()) as { user?: { id?: string } };
  if (refreshed.status !== 200 || session.user?.id !== w.victim.id)
    out.push(`B's session no longer refreshes after the run (${refreshed.status})`);
  for (const d of await listDeadLetters(t.db.redis, 20))
    out.push(`dead-lettered by ${d.group}: ${d.type} ${d.event.slice(0, 300)}: ${d.error.slice(0, 300)}`);
  const ready = await t.handle(new Request("http://localhost/ready"));
  if (ready.status !== 200) out.push(`/ready answers ${ready.status} after the run`);
  return out;
}
