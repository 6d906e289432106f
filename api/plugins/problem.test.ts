import { describe, expect, test } from "bun:test";
import { Elysia, t } from "elysia";
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
