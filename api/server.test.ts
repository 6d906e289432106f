import { describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { parseConfig } from "../core/config.ts";
import { createApp, type Deps } from "./app.ts";
import { createApiMetrics } from "./metrics.ts";
import { bodyPending } from "./plugins/limits.ts";
import { withDeadline } from "./server.ts";

// The request deadline around a fetch handler: a handler that outlives REQUEST_TIMEOUT_MS gets a
// problem answer instead of a hang (503, or 408 while its body is still arriving).

const config = parseConfig({ REQUEST_TIMEOUT_MS: "150", CORS_ORIGINS: "https://app.example" });
const server = null as unknown as Server<undefined>;
const never = () => new Promise<Response>(() => {});

describe("withDeadline", () => {
  test("a handler that answers in time is passed through untouched", async () => {
    const fetch = withDeadline(async () => new Response("hi", { status: 201 }), { config });
    const res = await fetch(new Request("http://localhost/x"), server);
    expect(res.status).toBe(201);
    expect(await res.text()).toBe("hi");
    expect(res.headers.get("connection")).toBeNull();
  });

  test("a slow handler gets a 503 request_timeout problem with Retry-After and the usual headers", async () => {
    const metrics = createApiMetrics();
    const logs: Record<string, unknown>[] = [];
    const fetch = withDeadline(never, { config, metrics, log: (l) => logs.push(l) });
    const started = performance.now();
    const res = await fetch(
      new Request("http://localhost/feed?limit=5", {
        headers: { origin: "https://app.example", "x-request-id": "req-12345678" },
      }),
      server,
    );
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.headers.get("retry-after")).toBe("1");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(res.headers.get("x-request-id")).toBe("req-12345678");
    expect(await res.json()).toMatchObject({
      status: 503,
      code: "request_timeout",
      instance: "/feed",
      request_id: "req-12345678",
    });
    expect(await metrics.registry.getSingleMetricAsString("http_request_timeouts_total")).toContain(
      'phase="handler"} 1',
    );
    expect(logs[0]).toMatchObject({ level: "warn", msg: "request deadline passed", path: "/feed" });
  });

  test("while the body is still arriving it is the client's slowness: 408, and the connection closes", async () => {
    const fetch = withDeadline(
      (request) => {
        bodyPending.add(request);
        return never();
      },
      { config },
    );
    const res = await fetch(new Request("http://localhost/posts", { method: "POST", body: "{" }), server);
    expect(res.status).toBe(408);
    expect(res.headers.get("connection")).toBe("close");
    expect(((await res.json()) as { code: string }).code).toBe("request_body_timeout");
  });

  test("while draining, every answer asks the client to close its connection", async () => {
    const fetch = withDeadline(async () => Response.json({ ok: true }), {
      config,
      lifecycle: { draining: true },
    });
    const res = await fetch(new Request("http://localhost/x"), server);
    expect(res.status).toBe(200);
    expect(res.headers.get("connection")).toBe("close");
  });

  test("a failure outside the app is a 500 problem without a stack", async () => {
    const fetch = withDeadline(
      async () => {
        throw new Error("secret stack detail");
      },
      { config, log: () => {} },
    );
    const res = await fetch(new Request("http://localhost/x"), server);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).toContain('"code":"internal"');
    expect(text).not.toContain("secret stack detail");
  });
});

describe("draining", () => {
  test("/ready answers 503 once draining starts, before it asks PostgreSQL or Redis anything", async () => {
    const lifecycle = { draining: true };
    // No sql or redis: the answer must not need them.
    const deps = { config, metrics: createApiMetrics(), lifecycle } as unknown as Deps;
    const res = await createApp(deps).handle(new Request("http://localhost/ready"));
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: "not_ready", detail: "shutting down: draining requests" });
  });
});
