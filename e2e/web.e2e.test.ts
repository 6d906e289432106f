import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import sharp from "sharp";
import { base, http } from "./support.ts";

// The web client (/app/) in Debian's Chromium, headless, against the running stack: two people
// sign in through the mock identity provider, one follows the other, who posts an image; the
// follower sees it with its thumbnail, likes it, and pulls the newer post in. Screenshots go to
// e2e/screenshots/ (docs/web-client.png is one of them).

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SHOTS = `${import.meta.dir}/screenshots`;
const run = Date.now().toString(36);

let browser: Browser;

/** What the checks read of an <img> in the page (this program has no DOM types). */
type Img = { naturalWidth: number; src: string; decode(): Promise<void> };

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
});
afterAll(async () => {
  await browser?.close();
});

/** A fresh browser profile, signed in through the page's own form as `name`. */
async function signedIn(name: string): Promise<{ page: Page; id: string }> {
  const context = await browser.newContext({ viewport: { width: 480, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error(`[${name}] page error:`, e.message));
  // (A 401 is expected once: the page asks the refresh cookie for a session before sign-in.)
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().includes("401")) console.error(`[${name}] console:`, m.text());
  });
  await page.goto(`${base}/app/`);
  await page.fill("input[name=login_hint]", name);
  await page.click("form.sign-in button[value=oidc]");
  // Back from the provider with a one-time code, which the page spends and hides.
  await page.waitForSelector("#nav:not([hidden])");
  expect(page.url()).toBe(`${base}/app/`);
  await page.click("a[href='#/me']");
  const id = await page.getAttribute("section.profile", "data-user-id");
  expect(id).toMatch(/^\d+$/);
  return { page, id: id! };
}

/** Asks `probe` every `everyMs` until it answers `want`; fails with its last answer. */
async function eventually<T>(probe: () => Promise<T>, want: T, timeoutMs: number, everyMs: number) {
  const end = Date.now() + timeoutMs;
  let last: T;
  do {
    last = await probe();
    if (last === want) return;
    await Bun.sleep(everyMs);
  } while (Date.now() < end);
  expect(last).toBe(want);
}

/** An access token of the page's session, from its refresh cookie (as the page itself gets one). */
function accessToken(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const res = await fetch("/auth/refresh", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refresh: "cookie" }),
    });
    return ((await res.json()) as { access_token: string }).access_token;
  });
}

/** The card of the post whose text is `text`. */
const card = (page: Page, text: string) => page.locator("article.post", { hasText: text });

async function post(page: Page, text: string, image?: Buffer) {
  await page.click("a[href='#/']");
  await page.fill("form.compose textarea", text);
  if (image)
    await page.setInputFiles("form.compose input[type=file]", {
      name: "photo.png",
      mimeType: "image/png",
      buffer: image,
    });
  await page.click("form.compose button[type=submit]");
  await card(page, text).waitFor();
}

describe("the web client in Chromium", () => {
  test("sign in, follow, post an image, see its thumbnail, like, pull the newer post in", async () => {
    const alice = await signedIn(`wa-${run}`);
    const bob = await signedIn(`wb-${run}`);

    // No token where a script or the address bar keeps it: not in the URL, storage or a readable cookie.
    expect(await bob.page.evaluate("[location.search, localStorage.length, document.cookie]")).toEqual([
      "",
      0,
      "",
    ]);

    // An avatar, uploaded straight to storage.
    const face = await sharp({ create: { width: 200, height: 200, channels: 3, background: "#e07a5f" } })
      .png()
      .toBuffer();
    await alice.page.setInputFiles("section.profile input[type=file]", {
      name: "me.png",
      mimeType: "image/png",
      buffer: face,
    });
    await alice.page.waitForSelector("section.profile img.avatar");

    // Bob follows Alice from her profile.
    await bob.page.goto(`${base}/app/#/users/${alice.id}`);
    await bob.page.click("button.follow[aria-pressed=false]");
    await bob.page.waitForSelector("button.follow[aria-pressed=true]");

    // Alice posts a picture: presigned POST to S3 from the page, then the post with its key.
    const picture = await sharp({
      create: { width: 640, height: 400, channels: 3, background: "#3d5a80" },
    })
      .composite([
        {
          input: Buffer.from(
            '<svg width="640" height="400"><circle cx="320" cy="200" r="120" fill="#ee6c4d"/></svg>',
          ),
        },
      ])
      .png()
      .toBuffer();
    const first = `Sunset from the hill ${run}`;
    await post(alice.page, first, picture);

    // Bob's feed shows it with its thumbnail (a WebP the media consumer makes), loaded by the page.
    await bob.page.goto(`${base}/app/#/`);
    await eventually(
      async () => {
        await bob.page.reload();
        const img = card(bob.page, first).locator("img.image");
        if ((await img.count()) === 0) return "no image yet";
        await img.evaluate((el: Img) => el.decode().catch(() => {}));
        return img.evaluate((el: Img) =>
          el.naturalWidth > 0 && new URL(el.src).pathname.endsWith(".webp") ? "thumbnail" : el.src,
        );
      },
      "thumbnail",
      30_000,
      1_000,
    );

    // Bob likes it: the count moves at once and holds after a reload.
    const like = card(bob.page, first).locator("button.like");
    await expect(like.getAttribute("aria-pressed")).resolves.toBe("false");
    await like.click();
    await bob.page.waitForSelector("article.post button.like[aria-pressed=true]");
    expect((await like.textContent())?.trim()).toBe("♥ 1");
    await bob.page.reload();
    await card(bob.page, first).locator("button.like[aria-pressed=true]").waitFor();
    await bob.page.screenshot({ path: `${SHOTS}/feed.png` });

    // Alice posts again; Bob asks for newer posts and gets it on top, without reloading.
    const second = `And the stars came out ${run}`;
    await post(alice.page, second);
    await eventually(
      async () => {
        await bob.page.click("button.newer");
        await bob.page.locator(".timeline.refreshing").waitFor({ state: "detached" });
        return bob.page.locator("article.post p.text").first().textContent();
      },
      second,
      15_000,
      500,
    );
    // Still exactly one card of the first post.
    expect(await card(bob.page, first).count()).toBe(1);
    await bob.page.screenshot({ path: `${SHOTS}/newer.png` });
    await alice.page.click("a[href='#/me']");
    await alice.page.waitForSelector("section.profile img.avatar");
    await alice.page.screenshot({ path: `${SHOTS}/profile.png` });

    // Unlike and unfollow, from the same buttons.
    await like.click();
    await card(bob.page, first).locator("button.like[aria-pressed=false]").waitFor();
    expect((await like.textContent())?.trim()).toBe("♡ 0");
    await bob.page.goto(`${base}/app/#/users/${alice.id}`);
    await bob.page.click("button.follow[aria-pressed=true]");
    await bob.page.waitForSelector("button.follow[aria-pressed=false]");
    await bob.page.goto(`${base}/app/#/users/${alice.id}`);
    await bob.page.reload();
    expect(await bob.page.textContent("section.profile .counts")).toContain("0 followers");

    // What the api holds agrees with what the pages showed.
    const token = await accessToken(bob.page);
    const mine = await http("GET", `/users/${alice.id}/posts?limit=5`, token);
    expect(mine.body.items.map((p: { text: string }) => p.text)).toEqual([second, first]);
    expect(mine.body.items[1]).toMatchObject({ like_count: 0, liked_by_me: false });
    expect((await http("GET", `/users/${alice.id}`, token)).body.followed_by_me).toBe(false);
  }, 120_000);

  test("a long profile scrolls: older pages load as its end comes into view, each post once", async () => {
    const carol = await signedIn(`wc-${run}`);
    const token = await accessToken(carol.page);
    for (let i = 1; i <= 45; i++) {
      const r = await http(
        "POST",
        "/posts",
        token,
        { text: `post ${i} of 45` },
        { "idempotency-key": `${run}-${i}` },
      );
      expect(r.status).toBe(201);
    }
    await carol.page.goto(`${base}/app/#/users/${carol.id}`);
    await carol.page.reload();
    await card(carol.page, "post 45 of 45").waitFor();
    expect(await carol.page.locator("article.post").count()).toBe(20);
    for (let i = 0; i < 5 && (await carol.page.textContent(".end")) !== "That's all."; i++) {
      await carol.page.locator(".end").scrollIntoViewIfNeeded();
      await carol.page.locator("article.post").nth(20).waitFor();
      await Bun.sleep(200);
    }
    await carol.page.waitForSelector('.end:text-is("That\'s all.")');
    const texts = await carol.page.locator("article.post p.text").allTextContents();
    expect(texts).toEqual(Array.from({ length: 45 }, (_, i) => `post ${45 - i} of 45`));
  }, 60_000);

  test("a signed-out visitor gets the sign-in form; a made-up code is refused, not signed in", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/app/?code=made-up`);
    await page.waitForSelector("form.sign-in");
    await expect(page.textContent("#toast")).resolves.toContain("sign-in failed");
    expect(page.url()).toBe(`${base}/app/`);
    await context.close();
  });
});
