import { ERRORS, type ErrorCode } from "../../core/errors.ts";
import type { Operation } from "./openapi.ts";
import type { FuzzRequest } from "./request.ts";
import { findViolation } from "./schema-values.ts";

// The oracle: what every answer must be, whatever was sent. No 5xx for a client's mistake;
// every 4xx an RFC 9457 problem whose status is the HTTP status; 2xx bodies as the document
// declares them; and another user's resources never answered as one's own.

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

/** What the oracle knows about the victim (B) and the sentinels A must never see as its own. */
export interface BolaContext {
  actorId: string;
  /** Strings that belong to B alone and must never appear in an answer to anyone else. */
  secretsOfOthers: string[];
  /** A post B liked and A is never allowed to like: liked_by_me must be false for A. */
  sentinelPostId: string;
  /** A user B follows and A is never allowed to follow: followed_by_me must be false for A. */
  sentinelUserId: string;
}

const mediaType = (h: Headers) => (h.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
const nonEmpty = (v: unknown) => typeof v === "string" && v.trim().length > 0;
/** Stack frames, file positions or driver errors in a detail are a leak, not an explanation. */
const LEAK = /\n\s+at |\bat .+\.[jt]s:\d+|node_modules|PostgresError|syntax error at or near|TypeError:/;

/** `headOnly`: an answer to HEAD, whose body HTTP drops; its headers are still the problem's. */
export function checkProblem(a: Answer, headOnly = false): string[] {
  const out: string[] = [];
  if (mediaType(a.headers) !== "application/problem+json")
    out.push(
      `${a.status} with content-type "${a.headers.get("content-type") ?? ""}", not application/problem+json`,
    );
  if (a.status === 401 && !a.headers.get("www-authenticate")) out.push("401 without WWW-Authenticate");
  if (a.status === 429 && !a.headers.get("retry-after")) out.push("429 without Retry-After");
  if (headOnly) return out;
  let p: Record<string, unknown>;
  try {
    p = JSON.parse(a.text);
  } catch {
    return [...out, `${a.status} body is not JSON: ${JSON.stringify(a.text.slice(0, 120))}`];
  }
  if (typeof p !== "object" || p === null || Array.isArray(p))
    return [...out, `${a.status} body is not an object`];
  if (!nonEmpty(p.type)) out.push("problem without a type");
  if (!nonEmpty(p.title)) out.push("problem without a title");
  if (p.status !== a.status) out.push(`problem status ${JSON.stringify(p.status)} ≠ HTTP status ${a.status}`);
  if (!nonEmpty(p.detail)) out.push("problem without a detail");
  else if (LEAK.test(p.detail as string))
    out.push(`problem detail leaks internals: ${(p.detail as string).slice(0, 160)}`);
  const code = p.code as ErrorCode;
  if (typeof code !== "string" || !(code in ERRORS))
    out.push(`problem code ${JSON.stringify(p.code)} is not in the catalogue`);
  else {
    if (ERRORS[code].status !== a.status)
      out.push(`code ${code} is a ${ERRORS[code].status}, answered ${a.status}`);
    if (ERRORS[code].title !== p.title) out.push(`code ${code} with title ${JSON.stringify(p.title)}`);
    if (p.type !== `/problems/${code}`) out.push(`code ${code} with type ${JSON.stringify(p.type)}`);
  }
  if (p.errors !== undefined) {
    const ok =
      Array.isArray(p.errors) &&
      p.errors.every(
        (e) =>
          typeof e === "object" &&
          e !== null &&
          typeof e.location === "string" &&
          typeof e.path === "string" &&
          typeof e.message === "string",
      );
    if (!ok) out.push("problem errors are not [{location, path, message}]");
  }
  return out;
}

function checkSuccess(a: Answer, op: Operation | undefined): string[] {
  if (!op) return [`${a.status} for a request no operation of the document matches`];
  const declared = op.responses[String(a.status)];
  // Operations without any response schema (GET /metrics) promise nothing to check against.
  if (Object.keys(op.responses).length === 0) return [];
  if (!declared) return [`${a.status} is not a documented response of ${op.key}`];
  const schema = declared["application/json"];
  if (!schema) return [];
  if (mediaType(a.headers) !== "application/json")
    return [`${a.status} declared as JSON, answered as "${a.headers.get("content-type") ?? ""}"`];
  let body: unknown;
  try {
    body = JSON.parse(a.text);
  } catch {
    return [`${a.status} body is not JSON`];
  }
  const why = findViolation(body, schema);
  return why ? [`${a.status} body does not match the documented schema: ${why}`] : [];
}

/** Every object in a JSON value, depth first (answers are small; no recursion limit needed). */
function* objectsIn(v: unknown): Generator<Record<string, unknown>> {
  if (Array.isArray(v)) for (const x of v) yield* objectsIn(x);
  else if (typeof v === "object" && v !== null) {
    yield v as Record<string, unknown>;
    for (const x of Object.values(v)) yield* objectsIn(x);
  }
}

function checkBola(r: FuzzRequest, a: Answer, ctx: BolaContext): string[] {
  const out: string[] = [];
  for (const s of ctx.secretsOfOthers)
    if (a.text.includes(s)) out.push("the answer carries another user's secret");
  if (r.tags.includes("bola:must-refuse") && a.status < 400)
    out.push(`another user's resource was changed or handed out (${a.status})`);
  // A refusal decided from the request alone (an upload key outside one's prefix) may be a 403;
  // one about a row that exists (another user's post) must look like a missing one.
  if (r.tags.includes("bola:hidden") && a.status === 403)
    out.push("403 tells that another user's resource exists: it must be a 404");
  if (!r.tags.includes("auth:actor") || a.status >= 300) return out;
  let body: unknown;
  try {
    body = JSON.parse(a.text);
  } catch {
    return out;
  }
  if (r.op === "GET /me" && (body as { id?: unknown })?.id !== ctx.actorId)
    out.push("GET /me answered someone else's profile");
  for (const o of objectsIn(body)) {
    if (o.id === ctx.sentinelPostId && o.liked_by_me !== false)
      out.push("liked_by_me is true for a post only another user liked");
    if (o.id === ctx.sentinelUserId && "followed_by_me" in o && o.followed_by_me !== false)
      out.push("followed_by_me is true for a user only another user follows");
  }
  return out;
}

/** Every rule the answer breaks; empty when it is a fine answer to that request. */
export function judge(r: FuzzRequest, a: Answer, op: Operation | undefined, ctx: BolaContext): string[] {
  const out: string[] = [];
  if (a.status >= 500) out.push(`${a.status}: a server error for a client's request`);
  else if (a.status >= 400) out.push(...checkProblem(a, r.method === "HEAD"));
  // HEAD has no body to check; OPTIONS is CORS's (a preflight answers for the route it asks about).
  else if (a.status >= 200 && r.method !== "HEAD" && r.method !== "OPTIONS") out.push(...checkSuccess(a, op));
  out.push(...checkBola(r, a, ctx));
  return out;
}
