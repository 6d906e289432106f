// The fuzzer's view of the API: every operation of the OpenAPI document the app serves, with the
// parameters, request bodies and responses it declares. Requests are generated from this, not
// from a hand-kept list, so a route added tomorrow is fuzzed tomorrow.

/** The subset of JSON Schema the generator (Elysia's TypeBox → OpenAPI 3.1) emits. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  patternProperties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  nullable?: boolean;
  default?: unknown;
}

export interface Parameter {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required: boolean;
  schema: JsonSchema;
}

export interface Operation {
  /** "METHOD /template", e.g. "PUT /posts/{id}/image": the key of every per-route count. */
  key: string;
  method: string;
  path: string;
  parameters: Parameter[];
  /** Media type → schema of the request body; null when the operation takes none. */
  body: Record<string, JsonSchema> | null;
  /** Status → media type → schema; statuses without content map to {}. */
  responses: Record<string, Record<string, JsonSchema>>;
  secured: boolean;
}

interface RawOperation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, { content?: Record<string, { schema?: JsonSchema }> }>;
  security?: unknown[];
}

export interface OpenApiDocument {
  openapi?: string;
  paths: Record<string, Record<string, RawOperation>>;
}

const METHODS = new Set(["get", "put", "post", "delete", "patch", "head", "options"]);

/** Only keys that look like media types count: the generator writes {"type":"null"} for t.Null(). */
const mediaTypesOf = (content: Record<string, { schema?: JsonSchema }> | undefined) =>
  Object.fromEntries(
    Object.entries(content ?? {})
      .filter(([type, v]) => type.includes("/") && typeof v === "object" && v !== null)
      .map(([type, v]) => [type, v.schema ?? {}]),
  );

export function listOperations(doc: OpenApiDocument): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, raw] of Object.entries(item)) {
      if (!METHODS.has(method)) continue;
      ops.push({
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        parameters: raw.parameters ?? [],
        body: raw.requestBody ? mediaTypesOf(raw.requestBody.content) : null,
        responses: Object.fromEntries(
          Object.entries(raw.responses ?? {}).map(([s, r]) => [s, mediaTypesOf(r.content)]),
        ),
        secured: (raw.security ?? []).length > 0,
      });
    }
  }
  return ops;
}

/**
 * What the document fails to say that a client (or this fuzzer) needs: a request body without a
 * schema, a path parameter the template names but the document does not declare.
 */
export function findDocumentDefects(ops: readonly Operation[]): string[] {
  const out: string[] = [];
  for (const op of ops) {
    if (op.body && Object.keys(op.body).length === 0)
      out.push(`${op.key}: the request body has no media type and no schema`);
    for (const m of op.path.matchAll(/\{([^}]+)\}/g)) {
      if (!op.parameters.some((p) => p.in === "path" && p.name === m[1]))
        out.push(`${op.key}: path parameter "${m[1]}" is not declared`);
    }
  }
  return out;
}

export async function loadOpenApi(send: (r: Request) => Promise<Response>): Promise<OpenApiDocument> {
  const res = await send(new Request("http://localhost/openapi.json"));
  if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}`);
  const doc = (await res.json()) as OpenApiDocument;
  if (!doc.paths || Object.keys(doc.paths).length === 0) throw new Error("the OpenAPI document has no paths");
  return doc;
}
