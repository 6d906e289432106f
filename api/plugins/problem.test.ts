import { describe, expect, test } from "bun:test";
import { Elysia, t } from "elysia";
import { AppError } from "../../core/errors.ts";
import { problemPlugin } from "./problem.ts";

// The error plugin alone, on a throwaway app: what it makes of errors no route of the real app
// produces on purpose.

describe("problemPlugin", () => {
  test("a handler's answer that breaks its response schema is a logged 500, not a 400 about the request body", async () => {
    const logged: Record<string, unknown>[] = [];
    const app = new Elysia({ normalize: false })
      .use(problemPlugin({ log: (l) => logged.push(l) }))
      .get("/broken", () => ({ a: 1 }) as never, { response: { 200: t.Object({ b: t.String() }) } })
      .post("/strict", ({ body }) => body, { body: t.Object({ b: t.String() }) });
    const res = await app.handle(new Request("http://localhost/broken"));
    expect(res.status).toBe(500);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(((await res.json()) as { code: string }).code).toBe("internal");
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: "error", msg: "unhandled error", path: "/broken" });
    // A request body that breaks its schema is still the client's 400.
    const bad = await app.handle(
      new Request("http://localhost/strict", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ b: 1 }),
      }),
    );
    expect(bad.status).toBe(400);
  });

  test("an outage met by a parse step (authBeforeBody checks the token there) is a 503, not a 400 about the JSON", async () => {
    const app = new Elysia({ normalize: false }).use(problemPlugin()).post("/upload", ({ body }) => body, {
      parse: [
        () => {
          throw new Error("Connection is closed.");
        },
        "json",
      ],
      body: t.Object({ b: t.String() }),
    });
    const res = await app.handle(
      new Request("http://localhost/upload", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ b: "x" }),
      }),
    );
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(((await res.json()) as { code: string }).code).toBe("dependency_unavailable");
    // Bad JSON itself is still the client's 400.
    const bad = await new Elysia({ normalize: false })
      .use(problemPlugin())
      .post("/json", ({ body }) => body, { parse: ["json"], body: t.Object({ b: t.String() }) })
      .handle(
        new Request("http://localhost/json", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{not json",
        }),
      );
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe("malformed_json");
  });
});

describe("what the client is told and what is only logged", () => {
  function appWith(route: () => unknown) {
    const logged: Record<string, unknown>[] = [];
    const app = new Elysia({ normalize: false })
      .use(
        problemPlugin({
          log: (l) => logged.push(l),
          known: [{ address: "10.20.30.40:6432", name: "PostgreSQL" }],
        }),
      )
      .get("/x", route);
    return { app, logged };
  }
  async function call(app: { handle(r: Request): Promise<Response> }) {
    const res = await app.handle(new Request("http://localhost/x"));
    const text = await res.text();
    return { res, text, body: JSON.parse(text) as Record<string, unknown> };
  }

  test("an AppError's internal fields are logged with the request id and never rendered", async () => {
    const { app, logged } = appWith(() => {
      throw new AppError("provider_unavailable", "the identity provider could not be reached", {
        internal: { error: "connect ECONNREFUSED 192.0.2.7:8443", request_id: "not-this-one" },
      });
    });
    const { res, text, body } = await call(app);
    expect(res.status).toBe(502);
    expect(body).toMatchObject({
      code: "provider_unavailable",
      title: "The identity provider could not be reached",
      detail: "the identity provider could not be reached",
    });
    expect(text).not.toContain("192.0.2.7");
    expect(text).not.toContain("internal");
    expect(logged).toEqual([
      {
        level: "warn",
        msg: "request failed",
        error: "connect ECONNREFUSED 192.0.2.7:8443",
        // The plugin's own fields win over the internal ones.
        request_id: res.headers.get("x-request-id"),
        path: "/x",
        code: "provider_unavailable",
        status: 502,
      },
    ]);
    expect(body.request_id).toBe(res.headers.get("x-request-id"));
  });

  test("a dependency outage names neither the service nor its address; the log names both", async () => {
    const { app, logged } = appWith(() => {
      throw Object.assign(new Error("connect ECONNREFUSED 10.20.30.40:6432"), { code: "ECONNREFUSED" });
    });
    const { res, text, body } = await call(app);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(body).toMatchObject({
      code: "dependency_unavailable",
      detail: "a backing service is unavailable; retry shortly",
    });
    for (const leak of ["10.20.30.40", "6432", "PostgreSQL", "ECONNREFUSED"])
      expect(text).not.toContain(leak);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      level: "warn",
      msg: "dependency unavailable",
      dependency: "PostgreSQL",
      request_id: res.headers.get("x-request-id"),
      error: expect.stringContaining("10.20.30.40:6432"),
    });
  });

  test("an unknown error's message and stack stay in the log", async () => {
    const { app, logged } = appWith(() => {
      throw new Error("relation secret_table at /srv/app/db.ts:12");
    });
    const { res, text } = await call(app);
    expect(res.status).toBe(500);
    expect(text).not.toContain("secret_table");
    expect(text).not.toContain("/srv/app");
    expect(logged[0]).toMatchObject({
      level: "error",
      msg: "unhandled error",
      request_id: res.headers.get("x-request-id"),
      error: expect.stringContaining("secret_table"),
    });
  });
});
