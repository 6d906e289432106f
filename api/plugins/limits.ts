import { Elysia } from "elysia";
import type { Config } from "../../core/config.ts";
import { AppError } from "../../core/errors.ts";

// The limits of a request, answered as problem+json before the work they would cost: the URL
// (414) and the header fields (431) at the door, a declared body (413) before a byte of it is
// read, and a body without a declared length (chunked) read with a cap instead of trusting it.
// JSON bodies are small; only multipart uploads get the media limit. Bun.serve's own limits
// stay outside these as the last guard (api/server.ts). After routing: a query parameter given
// twice, a body that is neither JSON nor multipart, and one nested too deep are refused before
// validation.

const MULTIPART = /^multipart\/form-data\b/i;
const JSON_TYPE = /^application\/(.+\+)?json\b/i;
/** The bodies this API takes: JSON, or multipart for uploads. */
export const JSON_OR_MULTIPART = /^(application\/(.+\+)?json|multipart\/form-data)\b/i;

const unsupportedBody = (contentType: string | null) =>
  new AppError(
    "unsupported_media_type",
    `request body must be JSON (Content-Type: application/json), or multipart/form-data for uploads; got "${contentType || "none"}"`,
  );

/**
 * No body of this API is deeper than a few levels. Deeper ones are refused before validation:
 * Elysia's validation error serialises the value recursively, and a 10 000-level array blew its
 * stack into a 500.
 */
const MAX_BODY_DEPTH = 32;

/** Iterative, so that measuring a hostile body cannot overflow the stack either. */
function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

/** A parameter given twice is ambiguous (which limit?): refused rather than guessed. */
function checkQueryOnce(request: Request): void {
  const seen = new Set<string>();
  for (const k of new URL(request.url).searchParams.keys()) {
    if (seen.has(k)) {
      throw new AppError("validation_failed", `invalid query: parameter "${k}" is given more than once`, {
        errors: [{ location: "query", path: k, message: "given more than once" }],
      });
    }
    seen.add(k);
  }
}

/**
 * Bodies are JSON, or multipart for uploads; anything else is refused before validation and the
 * handler, as is a body nested deeper than MAX_BODY_DEPTH.
 */
function checkBody(request: Request, body: unknown): void {
  if (!request.body || request.method === "GET" || request.method === "HEAD") return;
  const contentType = request.headers.get("content-type");
  if (!JSON_OR_MULTIPART.test(contentType ?? "")) throw unsupportedBody(contentType);
  if (nestedDeeperThan(body, MAX_BODY_DEPTH)) {
    const message = `nested more than ${MAX_BODY_DEPTH} levels deep`;
    throw new AppError("validation_failed", `invalid body: ${message}`, {
      errors: [{ location: "body", path: "", message }],
    });
  }
}

/** A body the server stopped reading cannot be followed by another request on its connection. */
const CLOSE = { connection: "close" };

/** An image at the media limit plus room for the multipart envelope and its text fields. */
export function multipartLimit(config: Config): number {
  return config.MEDIA_MAX_BYTES + 64 * 1024;
}

/** The body limit for a Content-Type: uploads are multipart; everything else must be small JSON. */
export function bodyLimit(config: Config, contentType: string | null): number {
  return MULTIPART.test(contentType ?? "") ? multipartLimit(config) : config.MAX_JSON_BODY_BYTES;
}

/**
 * Requests whose body is being read: a deadline that fires meanwhile is the client's slowness
 * (408), not ours (503). See api/server.ts.
 */
export const bodyPending = new WeakSet<Request>();

/** Length of the request target (path and query), what the request line carried. */
function targetLength(url: string): number {
  const slash = url.indexOf("/", url.indexOf("//") + 2);
  return slash === -1 ? 1 : url.length - slash;
}

/** Throws the 414, 431 or 413 a request has earned before anything of it is processed. */
export function checkRequestLimits(config: Config, request: Request): void {
  const target = targetLength(request.url);
  if (target > config.MAX_URL_LENGTH) {
    throw new AppError(
      "uri_too_long",
      `the request target is ${target} characters long; at most ${config.MAX_URL_LENGTH} are accepted`,
    );
  }
  let count = 0;
  let bytes = 0;
  request.headers.forEach((value, name) => {
    count++;
    // As on the wire: "name: value\r\n".
    bytes += name.length + value.length + 4;
  });
  if (count > config.MAX_HEADER_COUNT) {
    throw new AppError(
      "header_fields_too_large",
      `the request has ${count} header fields; at most ${config.MAX_HEADER_COUNT} are accepted`,
    );
  }
  if (bytes > config.MAX_HEADER_BYTES) {
    throw new AppError(
      "header_fields_too_large",
      `the request's header fields take ${bytes} bytes; at most ${config.MAX_HEADER_BYTES} are accepted`,
    );
  }
  const declared = Number(request.headers.get("content-length") ?? 0);
  const limit = bodyLimit(config, request.headers.get("content-type"));
  if (declared > limit) {
    throw new AppError(
      "payload_too_large",
      `the request body is ${declared} bytes; at most ${limit} are accepted for this content type`,
      { headers: CLOSE },
    );
  }
}

/** The whole body, or a 413 as soon as it runs past `limit` (the rest is never read). */
export async function readCapped(request: Request, limit: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      reader.cancel().catch(() => {});
      throw new AppError(
        "payload_too_large",
        `the request body runs past ${limit} bytes, the most accepted for this content type`,
        { headers: CLOSE },
      );
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

const UNSAFE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/**
 * The parse hook of the routes that take multipart uploads: form fields as the routes' schemas
 * expect them, one value as itself, repeated ones as a list, and text kept as text. (Elysia's
 * own form parser turns a field that starts with "{" or "[" into an object, so a post whose
 * text looks like JSON was refused; it also nests "a.b" keys.) JSON bodies fall through to
 * the route's next parser. Routes name it as `parse: [parseFormFields, "json", "formdata"]`:
 * the named parsers after it are what the OpenAPI generator reads the media types from.
 */
export async function parseFormFields({ request }: { request: Request }): Promise<unknown> {
  const type = request.headers.get("content-type") ?? "";
  // No body: nothing to parse, and nothing for the named parsers either (they would call an
  // empty body malformed JSON before the route could say 401 or name what is missing).
  if (!request.body) return {};
  if (!MULTIPART.test(type)) {
    // Only JSON goes on to the "json" parser; anything else is refused here, as on other routes.
    if (JSON_TYPE.test(type)) return undefined;
    throw unsupportedBody(type);
  }
  const form = await request.formData();
  const out: Record<string, unknown> = {};
  for (const key of new Set(form.keys())) {
    if (UNSAFE_KEYS.has(key)) continue;
    const values = form.getAll(key);
    out[key] = values.length === 1 ? values[0] : values;
  }
  return out;
}

/** The `parse` option of a route that takes JSON or a multipart upload. */
export const jsonOrForm = [parseFormFields, "json", "formdata"] as const;

// No global parse hook here: with one (even global) the OpenAPI generator cannot tell what a
// route parses and drops every request body schema, so the body is checked in a transform, after
// parsing. Bodies without a declared length are read with their cap by the server
// (api/server.ts withCappedBody) before they reach the app.
export const limitsPlugin = (config: Config) =>
  new Elysia()
    .onRequest(({ request }) => {
      checkRequestLimits(config, request);
      if (request.body && request.method !== "GET" && request.method !== "HEAD") bodyPending.add(request);
    })
    .onTransform({ as: "global" }, ({ request, body }) => {
      checkQueryOnce(request);
      checkBody(request, body);
      // After parsing: the body has arrived; a deadline from now on is ours, not the client's.
      bodyPending.delete(request);
    });
