import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Elysia } from "elysia";
import { parseConfig } from "../../core/config.ts";
import type { Deps } from "../deps.ts";
import { problemPlugin } from "../plugins/problem.ts";
import { securityPlugin } from "../plugins/security.ts";
import { webRoutes } from "./routes.ts";
import { appCsp } from "./serve-app.ts";

// The web client's files as the api serves them: a built tree of Vite's shape in a temp folder.

const dir = mkdtempSync(join(tmpdir(), "feed-web-"));
mkdirSync(join(dir, "assets"));
writeFileSync(join(dir, "index.html"), "<!doctype html><title>Feed</title>");
writeFileSync(join(dir, "assets", "index-Ab12.js"), "console.log(1)");
writeFileSync(join(dir, "assets", "index-Cd34.css"), "body{}");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = parseConfig({ S3_ENDPOINT: "http://minio:9000", S3_PUBLIC_ENDPOINT: "http://localhost:9000" });
const serve = (d: string) =>
  new Elysia()
    .use(securityPlugin(config))
    .use(problemPlugin())
    .use(webRoutes({ config } as Deps, d));
const app = serve(dir);
const get = (path: string, headers: Record<string, string> = {}) =>
  app.handle(new Request(`http://localhost${path}`, { headers }));

describe("GET /app/", () => {
  test("/app sends the browser to /app/, which is the page, under the page's policy", async () => {
    const redirect = await get("/app");
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get("location")).toBe("/app/");
    for (const path of ["/app/", "/app/index.html"]) {
      const page = await get(path);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(page.headers.get("cache-control")).toBe("no-cache");
      expect(page.headers.get("content-security-policy")).toBe(appCsp(config));
      expect(page.headers.get("x-frame-options")).toBe("DENY");
      expect(await page.text()).toContain("<title>Feed</title>");
    }
  });

  test("assets are cached for good, by their hashed names; an unchanged one answers 304", async () => {
    const js = await get("/app/assets/index-Ab12.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(await js.text()).toBe("console.log(1)");
    const css = await get("/app/assets/index-Cd34.css");
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    const again = await get("/app/assets/index-Ab12.js", { "if-none-match": js.headers.get("etag")! });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
  });

  test("anything else is a 404 problem: no file outside the build is reachable", async () => {
    for (const path of ["/app/nope.js", "/app/assets/", "/app/..%2Fpackage.json", "/app/assets/../../x"]) {
      const res = await get(path);
      expect([path, res.status]).toEqual([path, 404]);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
    }
  });

  test("unbuilt, the page says how to build it", async () => {
    const res = await serve(join(dir, "missing")).handle(new Request("http://localhost/app/"));
    expect(res.status).toBe(404);
    expect(((await res.json()) as { detail: string }).detail).toContain("bun run web:build");
  });

  test("the policy lets images and uploads reach the browser's S3 endpoint, and nothing else", () => {
    const csp = appCsp(config);
    expect(csp).toContain("img-src 'self' blob: data: http://localhost:9000;");
    expect(csp).toContain("connect-src 'self' http://localhost:9000;");
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toContain("minio");
    expect(appCsp(parseConfig({}))).toContain("connect-src 'self';");
  });
});
