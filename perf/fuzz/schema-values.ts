import fc from "fast-check";
import type { JsonSchema } from "./openapi.ts";

// JSON Schema (the subset the OpenAPI generator emits) both ways: values that satisfy a schema,
// as fast-check arbitraries, and a check of a value against one (2xx bodies against their
// declared response schema).

const typesOf = (s: JsonSchema): string[] =>
  s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type];

/**
 * Elysia documents t.Integer as anyOf [numeric string, integer] (it coerces query strings); a
 * JSON client sends the integer, so that is the branch to generate from.
 */
const preferredBranches = (anyOf: JsonSchema[]) => {
  const plain = anyOf.filter((b) => !(b.format === "integer" && typesOf(b).includes("string")));
  return plain.length > 0 ? plain : anyOf;
};

/** Binary fields (t.File) are not JSON: the multipart builder fills them. */
export const isFileSchema = (s: JsonSchema) => s.format === "binary";

export function generateValue(schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.anyOf)
    return fc.oneof(...preferredBranches(schema.anyOf).map((b) => generateValue(b, depth + 1)));
  const types = typesOf(schema);
  if (types.length > 1)
    return fc.oneof(...types.map((t) => generateValue({ ...schema, type: t }, depth + 1)));
  switch (types[0]) {
    case "null":
      return fc.constant(null);
    case "boolean":
      return fc.boolean();
    case "integer":
      return fc.integer({
        min: schema.minimum ?? -1_000_000,
        max: schema.maximum ?? 1_000_000,
      });
    case "number":
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
    case "string": {
      if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern));
      if (schema.format === "date-time") return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
      const minLength = schema.minLength ?? 0;
      return fc.string({ minLength, maxLength: Math.max(minLength, Math.min(schema.maxLength ?? 40, 40)) });
    }
    case "array":
      return depth > 4
        ? fc.constant([])
        : fc.array(generateValue(schema.items ?? {}, depth + 1), { maxLength: 3 });
    case "object":
      return objectOf(schema, depth);
    default:
      return depth > 4 ? fc.constant(null) : fc.jsonValue({ maxDepth: 2 });
  }
}

function objectOf(schema: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  const props = Object.entries(schema.properties ?? {}).filter(([, s]) => !isFileSchema(s));
  const required = new Set(schema.required ?? []);
  const model = Object.fromEntries(props.map(([k, s]) => [k, generateValue(s, depth + 1)]));
  return fc.record(model, { requiredKeys: props.map(([k]) => k).filter((k) => required.has(k)) });
}

const typeName = (v: unknown): string =>
  v === null
    ? "null"
    : Array.isArray(v)
      ? "array"
      : typeof v === "number" && Number.isInteger(v)
        ? "integer"
        : typeof v;

function matchesType(v: unknown, t: string): boolean {
  const actual = typeName(v);
  if (t === "number") return actual === "integer" || actual === "number";
  return actual === t;
}

/** Why a value does not satisfy a schema (the first reason found, with its path), or null. */
export function findViolation(value: unknown, schema: JsonSchema, at = "$"): string | null {
  if (schema.const !== undefined && value !== schema.const)
    return `${at}: expected ${JSON.stringify(schema.const)}`;
  if (schema.enum && !schema.enum.includes(value)) return `${at}: not one of ${JSON.stringify(schema.enum)}`;
  if (schema.anyOf) {
    const reasons = schema.anyOf.map((b) => findViolation(value, b, at));
    if (reasons.every((r) => r !== null)) return reasons[0]!;
  }
  const types = typesOf(schema);
  if (schema.nullable && value === null) return null;
  if (types.length > 0 && !types.some((t) => matchesType(value, t)))
    return `${at}: expected ${types.join(" or ")}, got ${typeName(value)}`;
  if (typeof value === "string") {
    if (schema.pattern && !new RegExp(schema.pattern).test(value))
      return `${at}: ${JSON.stringify(value.slice(0, 40))} does not match ${schema.pattern}`;
    if (schema.format === "date-time" && Number.isNaN(Date.parse(value)))
      return `${at}: ${JSON.stringify(value.slice(0, 40))} is not a date-time`;
  }
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) return `${at}: ${value} < ${schema.minimum}`;
    if (schema.maximum !== undefined && value > schema.maximum) return `${at}: ${value} > ${schema.maximum}`;
  }
  if (Array.isArray(value) && schema.items) {
    for (let i = 0; i < value.length; i++) {
      const r = findViolation(value[i], schema.items, `${at}[${i}]`);
      if (r) return r;
    }
  }
  if (typeName(value) === "object") {
    const obj = value as Record<string, unknown>;
    for (const k of schema.required ?? []) if (!(k in obj)) return `${at}: "${k}" is missing`;
    for (const [k, v] of Object.entries(obj)) {
      const declared = schema.properties?.[k];
      const byPattern = Object.entries(schema.patternProperties ?? {}).find(([p]) => new RegExp(p).test(k));
      const sub =
        declared ??
        byPattern?.[1] ??
        (typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined);
      if (sub) {
        const r = findViolation(v, sub, `${at}.${k}`);
        if (r) return r;
      } else if (schema.additionalProperties === false) return `${at}: unexpected "${k}"`;
    }
  }
  return null;
}
