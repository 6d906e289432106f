import { describe, expect, test } from "bun:test";
import { validOpenApi } from "./openapi.ts";

// biome-ignore lint/suspicious/noExplicitAny: the document is walked field by field below
type Doc = any;

describe("the served OpenAPI document", () => {
  const generated = {
    openapi: "3.1.2",
    info: { title: "t", version: "1" },
    paths: {
      "/health": {
        get: { responses: { "200": { content: { "application/json": { schema: { type: "object" } } } } } },
      },
      "/likes/{post_id}": {
        delete: {
          security: [{ bearer: [] }],
          responses: { "204": { description: "gone", content: { type: "null" } } },
        },
      },
    },
    components: {
      schemas: {
        User: {
          type: "object",
          properties: {
            avatar_url: { nullable: true, type: ["string", "null"] },
            // A property that happens to be called "nullable" is kept.
            nullable: { type: "boolean" },
          },
        },
      },
    },
  };

  test("drops 3.0's nullable keyword, keeps the types that include null", () => {
    const doc = validOpenApi(generated, "http://localhost:3000") as Doc;
    expect(doc.components.schemas.User.properties.avatar_url).toEqual({ type: ["string", "null"] });
    expect(doc.components.schemas.User.properties.nullable).toEqual({ type: "boolean" });
  });

  test("responses without a body have no content; public operations say security: []", () => {
    const doc = validOpenApi(generated, "http://localhost:3000") as Doc;
    expect(doc.paths["/likes/{post_id}"].delete.responses["204"]).toEqual({ description: "gone" });
    expect(doc.paths["/likes/{post_id}"].delete.security).toEqual([{ bearer: [] }]);
    expect(doc.paths["/health"].get.security).toEqual([]);
    expect(doc.paths["/health"].get.responses["200"].content["application/json"].schema).toEqual({
      type: "object",
    });
    expect(doc.servers).toEqual([{ url: "http://localhost:3000" }]);
  });
});
