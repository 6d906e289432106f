import { describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { type Config, parseConfig } from "../../core/config.ts";
import { AppError } from "../../core/errors.ts";
import { createApp, type Deps } from "../app.ts";
import { githubProvider } from "../auth/providers.ts";
import { authRoutes } from "../auth/routes.ts";
import { createApiMetrics } from "../metrics.ts";
import { limitsPlugin } from "./limits.ts";
import { problemPlugin } from "./problem.ts";
import {
  CORS_ALLOW_HEADERS,
  CORS_ALLOW_METHODS,
  CORS_EXPOSE_HEADERS,
  pathOf,
  securityHeaders,
  securityPlugin,
} from "./security.ts";

// Security headers on every kind of response, and CORS from CORS_ORIGINS, on a small app with
// the real problem and limits plugins; the /docs policy against the page createApp serves.

function appWith(config: Config) {
  return new Elysia({ normalize: false })
    .use(securityPlugin(config))
    .use(problemPlugin())
    .use(limitsPlugin(config))
    .get("/ok", () => ({ ok: true }))
    .get("/cached", ({ set }) => {
      set.headers["cache-control"] = "public, max-age=60";
      return "x";
    })
    .get("/private", () => {
      throw new AppError("unauthorized", "no token");
    });
}

const plain = appWith(parseConfig({}));
const get = (app: ReturnType<typeof appWith>, path: string, headers: Record<string, string> = {}) =>
  app.handle(new Request(`http://localhost${path}`, { headers }));

function expectSecurityHeaders(res: Response) {
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  expect(res.headers.get("x-frame-options")).toBe("DENY");
  expect(res.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
  expect(res.headers.get("cache-control")).toBe("no-store");
}

describe("security headers", () => {
  test("are on ordinary answers, problem answers, 404s and refusals at the door", async () => {
    const answers = [
      await get(plain, "/ok"),
      await get(plain, "/private"),
      await get(plain, "/nowhere"),
      await get(plain, `/ok?q=${"a".repeat(5000)}`),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 401, 404, 414]);
    for (const res of answers) expectSecurityHeaders(res);
  });

  test("a handler's own Cache-Control wins over the no-store default", async () => {
    expect((await get(plain, "/cached")).headers.get("cache-control")).toBe("public, max-age=60");
  });

  test("HSTS when PUBLIC_URL is https, and always in production", async () => {
    expect((await get(plain, "/ok")).headers.get("strict-transport-security")).toBeNull();
    const https = appWith(parseConfig({ NODE_ENV: "development", PUBLIC_URL: "https://feed.example" }));
    expect((await get(https, "/ok")).headers.get("strict-transport-security")).toBe(
      "max-age=31536000; includeSubDomains",
    );
    // Production is https whatever PUBLIC_URL says (a TLS proxy in front may hide it).
    const production = appWith({ ...parseConfig({}), NODE_ENV: "production" });
    expect((await get(production, "/ok")).headers.get("strict-transport-security")).toBe(
      "max-age=31536000; includeSubDomains",
    );
  });

  test("the sign-in cookie is Secure over https, and always in production", async () => {
    const loginCookie = async (config: Config) => {
      const deps: Deps = { config, metrics: createApiMetrics() } as unknown as Deps;
      const providers = new Map([["github" as const, githubProvider("id", "x", "http://x/cb")]]);
      const app = new Elysia().use(authRoutes(deps, providers));
      const res = await app.handle(new Request("http://localhost/auth/github/login"));
      expect(res.status).toBe(302);
      return res.headers.get("set-cookie") ?? "";
    };
    const dev = parseConfig({ RATE_LIMIT_AUTH_PER_MINUTE: "0" });
    expect(await loginCookie(dev)).not.toContain("Secure");
    expect(await loginCookie({ ...dev, NODE_ENV: "production" })).toContain("Secure");
    expect(await loginCookie({ ...dev, PUBLIC_URL: "https://feed.example" })).toContain("Secure");
  });

  test("the documentation is cacheable and gets a policy that lets Scalar run", () => {
    const docs = securityHeaders(parseConfig({}), "/docs");
    expect(docs["cache-control"]).toBeUndefined();
    expect(docs["content-security-policy"]).toContain("script-src https://cdn.jsdelivr.net");
    expect(docs["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(securityHeaders(parseConfig({}), "/openapi.json")["cache-control"]).toBeUndefined();
  });

  test("pathOf takes the path without the query", () => {
    expect(pathOf("http://localhost:3000/docs?x=1")).toBe("/docs");
    expect(pathOf("http://localhost")).toBe("/");
    expect(pathOf("https://a.example/users/1/posts")).toBe("/users/1/posts");
  });
});

describe("/docs under its policy", () => {
  const config = parseConfig({});
  const deps = { config, metrics: createApiMetrics() } as unknown as Deps;
  const app = createApp(deps);

  test("every script, style and font the page names is allowed by its CSP", async () => {
    const res = await app.handle(new Request("http://localhost/docs"));
    expect(res.status).toBe(200);
    const csp = res.headers.get("content-security-policy")!;
    const directive = (name: string) =>
      csp
        .split("; ")
        .find((d) => d.startsWith(`${name} `))!
        .split(" ")
        .slice(1);
    const html = await res.text();
    const scripts = [...html.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)].map((m) => new URL(m[1]!).origin);
    expect(scripts.length).toBeGreaterThan(0);
    for (const origin of scripts) expect(directive("script-src")).toContain(origin);
    // Inline <script> bodies would be blocked: the page's only one must be empty.
    const inline = [...html.matchAll(/<script(?![^>]*\ssrc=)[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
    for (const body of inline) expect(body.trim()).toBe("");
    if (html.includes("<style")) expect(directive("style-src")).toContain("'unsafe-inline'");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
  });

  test("the OpenAPI document and the API keep the strict policy", async () => {
    const spec = await app.handle(new Request("http://localhost/openapi.json"));
    expect(spec.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
    const missing = await app.handle(new Request("http://localhost/nope"));
    expect(missing.status).toBe(404);
    expectSecurityHeaders(missing);
  });
});

describe("CORS", () => {
  const cors = appWith(parseConfig({ CORS_ORIGINS: "https://app.example, http://localhost:5173" }));
  const preflight = (app: ReturnType<typeof appWith>, origin: string, path = "/ok") =>
    app.handle(
      new Request(`http://localhost${path}`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type, idempotency-key",
        },
      }),
    );

  test("without CORS_ORIGINS no response carries a CORS header", async () => {
    const res = await get(plain, "/ok", { origin: "https://app.example" });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(res.headers.get("vary")).toBeNull();
    // Nor is a preflight answered: it is an OPTIONS request with no route.
    expect((await preflight(plain, "https://app.example")).status).toBe(404);
  });

  test("an allowed origin is echoed, with the exposed headers and Vary: Origin", async () => {
    const res = await get(cors, "/ok", { origin: "http://localhost:5173" });
    expect(res.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    expect(res.headers.get("access-control-expose-headers")).toBe(CORS_EXPOSE_HEADERS);
    for (const h of ["RateLimit", "RateLimit-Policy", "Retry-After", "X-Request-Id"])
      expect(CORS_EXPOSE_HEADERS.split(", ")).toContain(h);
    expect(res.headers.get("vary")).toBe("Origin");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
  });

  test("problem answers carry CORS too, so a browser can read why", async () => {
    const res = await get(cors, "/private", { origin: "https://app.example" });
    expect(res.status).toBe(401);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
  });

  test("a disallowed origin, or one that only contains an allowed one, gets no CORS header", async () => {
    for (const origin of ["https://evil.example", "https://app.example.evil.example", "null"]) {
      const res = await get(cors, "/ok", { origin });
      expect(res.status).toBe(200);
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
      expect(res.headers.get("access-control-expose-headers")).toBeNull();
      expect(res.headers.get("vary")).toBe("Origin");
    }
    // Without Origin at all (same-origin, curl) still Vary, so a cache keeps the two apart.
    expect((await get(cors, "/ok")).headers.get("vary")).toBe("Origin");
  });

  test("a preflight from an allowed origin is 204 with methods, headers and max-age, before routing", async () => {
    // /private would answer 401: the preflight never reaches it.
    const res = await preflight(cors, "https://app.example", "/private");
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(res.headers.get("access-control-allow-methods")).toBe(CORS_ALLOW_METHODS);
    expect(res.headers.get("access-control-allow-headers")).toBe(CORS_ALLOW_HEADERS);
    for (const h of ["Authorization", "Content-Type", "Idempotency-Key"])
      expect(CORS_ALLOW_HEADERS).toContain(h);
    expect(Number(res.headers.get("access-control-max-age"))).toBeGreaterThan(0);
    expect(res.headers.get("vary")).toBe("Origin");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });

  test("a preflight from a disallowed origin is 204 without any CORS header", async () => {
    const res = await preflight(cors, "https://evil.example");
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(res.headers.get("access-control-allow-methods")).toBeNull();
    expect(res.headers.get("access-control-allow-headers")).toBeNull();
  });
});
