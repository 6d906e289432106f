// The document @elysiajs/openapi generates from the routes' schemas, made valid OpenAPI 3.1 for
// the generators and validators that follow the spec (`redocly lint` in ./dev test):
// - `nullable` is 3.0's keyword: 3.1 says it with a type that includes "null", which the
//   generated schemas already do, so the keyword goes;
// - a response without a body (204, 302) has no `content`, where the generator writes the null
//   schema in its place;
// - every operation states its security: public ones `security: []`, the rest keep their bearer;
// - `servers` names the public URL.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function validOpenApi(generated: unknown, publicUrl: string): Record<string, Json> {
  const doc = dropNullable(structuredClone(generated) as Json) as Record<string, Json>;
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Record<string, Json>>>;
  for (const operations of Object.values(paths))
    for (const op of Object.values(operations)) {
      op.security ??= [];
      for (const response of Object.values((op.responses ?? {}) as Record<string, Record<string, Json>>)) {
        const content = response.content as Record<string, Json> | undefined;
        if (content && !Object.values(content).every((v) => isObject(v) && ("schema" in v || "example" in v)))
          delete response.content;
      }
    }
  return { ...doc, servers: [{ url: publicUrl }] };
}

function isObject(v: Json): v is { [key: string]: Json } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function dropNullable(v: Json): Json {
  if (Array.isArray(v)) return v.map(dropNullable);
  if (!isObject(v)) return v;
  const out: { [key: string]: Json } = {};
  for (const [k, x] of Object.entries(v))
    if (!(k === "nullable" && typeof x === "boolean")) out[k] = dropNullable(x);
  return out;
}
