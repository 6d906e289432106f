import { Elysia } from "elysia";
import {
  type Dependency,
  dependencyOf,
  isPostgresUnreachable,
  type KnownAddress,
} from "../../core/dependency-errors.ts";
import { AppError, type FieldError, problemOf } from "../../core/errors.ts";

// Turns every error into RFC 9457 application/problem+json, gives each request an id, and
// records the request's duration. Unknown errors become a 500 that names the request id and
// never leaks a stack; an AppError's log-only `internal` fields go to the log, never the client.

type Location = FieldError["location"];

interface ValidationLike {
  type?: string;
  value?: unknown;
  all?: { path?: string; message?: string; summary?: string }[];
}

function fieldErrors(err: ValidationLike, request: Request): FieldError[] {
  if (err.type === "property") {
    // Elysia checks coerced query numbers one property at a time and reports the value without
    // its name; the name is found again by the value in the query string.
    const params = new URL(request.url).searchParams;
    const name = [...params.keys()].find((k) => params.get(k) === String(err.value)) ?? "";
    const message = err.all?.[0]?.message ?? "is invalid";
    return [{ location: "query", path: name, message }];
  }
  const location = (
    ["body", "query", "params", "headers", "cookie"].includes(err.type ?? "") ? err.type : "body"
  ) as Location;
  const seen = new Set<string>();
  const out: FieldError[] = [];
  for (const e of err.all ?? []) {
    const path = (e.path ?? "").replace(/^\//, "").replaceAll("/", ".");
    const message = e.summary ?? e.message ?? "is invalid";
    const k = `${path}\u0000${message}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ location, path, message });
  }
  return out;
}

function toAppError(
  code: string | number,
  error: unknown,
  request: Request,
  known: readonly KnownAddress[] = [],
): AppError | null {
  if (error instanceof AppError) return error;
  switch (code) {
    case "VALIDATION": {
      const v = error as ValidationLike;
      // An answer that breaks its own response schema is our bug, not an invalid request: a
      // 500 (logged), never a 400 blaming the client's "body".
      if (v.type === "response") return null;
      const ct = request.headers.get("content-type") ?? "";
      if (
        v.type === "body" &&
        request.method !== "GET" &&
        !/^(application\/(.+\+)?json|multipart\/form-data)\b/i.test(ct)
      ) {
        return new AppError(
          "unsupported_media_type",
          `request body must be JSON (Content-Type: application/json), got "${ct || "none"}"`,
        );
      }
      const errors = fieldErrors(v, request);
      const first = errors[0];
      const where = first
        ? `${first.location}${first.path ? ` field "${first.path}"` : ""}: ${first.message}`
        : (v.type ?? "request");
      return new AppError("validation_failed", `invalid ${where}`, { errors });
    }
    case "PARSE": {
      // Errors thrown by our own parse hook arrive wrapped in Elysia's ParseError.
      const cause = (error as { cause?: unknown }).cause;
      if (cause instanceof AppError) return cause;
      // The parse step that authenticates (authBeforeBody) may meet an outage first.
      const down = dependencyOf(cause, known);
      if (down) return unavailable(down);
      return new AppError("malformed_json", "request body is not valid JSON");
    }
    case "NOT_FOUND":
      return new AppError("not_found", `no route for ${request.method} ${new URL(request.url).pathname}`);
    default: {
      // An outage of PostgreSQL or Redis is not the client's mistake and not a bug here: 503
      // with Retry-After, so clients and balancers back off and try again.
      const down = dependencyOf(error, known);
      return down ? unavailable(down) : null;
    }
  }
}

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

// Which service is down, and where, is for the log: the client learns only that it may retry.
const unavailable = (down: Dependency) =>
  new AppError("dependency_unavailable", "a backing service is unavailable; retry shortly", {
    headers: { "retry-after": "1" },
    internal: { dependency: down },
  });

/**
 * How long after an outage error requests fail at once. A request arriving while PostgreSQL is
 * down would otherwise queue in postgres.js until a connection succeeds; answering 503 now lets
 * clients and balancers back off. The first request after the window tries for real.
 */
const PG_OPEN_MS = 1_000;
/** Routes that answer without PostgreSQL, or that report on it themselves. */
const OPS_PATHS = new Set(["/health", "/ready", "/docs", "/openapi.json"]);

export interface ProblemOptions {
  /** Services' addresses, to name the one behind a bare socket error (core/dependency-errors.ts). */
  known?: readonly KnownAddress[];
  onRequestDone?: (r: { method: string; route: string; status: number; seconds: number }) => void;
  log?: (line: Record<string, unknown>) => void;
}

export const problemPlugin = (opts: ProblemOptions = {}) => {
  let pgDownUntil = 0;
  // Set first thing, so requests refused before routing (a fast 503) are timed too.
  const startedAt = new WeakMap<Request, number>();
  return (
    new Elysia({ name: "problem" })
      .onRequest(({ request }) => {
        startedAt.set(request, performance.now());
        if (pgDownUntil > performance.now() && !OPS_PATHS.has(new URL(request.url).pathname)) {
          throw unavailable("PostgreSQL");
        }
      })
      .derive({ as: "global" }, ({ request }) => {
        // A parameter given twice is ambiguous (which limit?): refused rather than guessed.
        const seen = new Set<string>();
        for (const k of new URL(request.url).searchParams.keys()) {
          if (seen.has(k)) {
            throw new AppError(
              "validation_failed",
              `invalid query: parameter "${k}" is given more than once`,
              {
                errors: [{ location: "query", path: k, message: "given more than once" }],
              },
            );
          }
          seen.add(k);
        }
        const incoming = request.headers.get("x-request-id");
        const requestId =
          incoming && /^[A-Za-z0-9._-]{8,100}$/.test(incoming) ? incoming : crypto.randomUUID();
        return { requestId };
      })
      .onAfterHandle({ as: "global" }, ({ set, requestId, responseValue }) => {
        // On a ready Response (render.ts jsonWithEtag) itself: a header left in `set` would
        // make Elysia copy the Response to merge it in.
        if (responseValue instanceof Response) {
          try {
            responseValue.headers.set("x-request-id", requestId);
            return;
          } catch {
            // immutable headers (Response.redirect): merged from `set` as for any other answer
          }
        }
        set.headers["x-request-id"] = requestId;
      })
      // Bodies are JSON, or multipart for uploads; anything else is refused before validation
      // and the handler. A transform, not a parse hook: with a parse hook (even a global one) the
      // OpenAPI generator cannot tell what a route parses and drops every request body schema.
      .onTransform({ as: "global" }, ({ request, body }) => {
        if (!request.body || request.method === "GET" || request.method === "HEAD") return;
        const contentType = request.headers.get("content-type");
        if (!/^(application\/(.+\+)?json|multipart\/form-data)\b/i.test(contentType ?? "")) {
          throw new AppError(
            "unsupported_media_type",
            `request body must be JSON (Content-Type: application/json), or multipart/form-data for uploads; got "${contentType || "none"}"`,
          );
        }
        if (nestedDeeperThan(body, MAX_BODY_DEPTH)) {
          const message = `nested more than ${MAX_BODY_DEPTH} levels deep`;
          throw new AppError("validation_failed", `invalid body: ${message}`, {
            errors: [{ location: "body", path: "", message }],
          });
        }
      })
      .onError({ as: "global" }, ({ code, error, request, set, ...ctx }) => {
        const requestId = (ctx as { requestId?: string }).requestId ?? crypto.randomUUID();
        const path = new URL(request.url).pathname;
        let app = toAppError(code, error, request, opts.known);
        // Only a real failure keeps the window open: not this plugin's own refusal (an AppError),
        // nor one statement that ran past its timeout.
        if (app?.code === "dependency_unavailable" && isPostgresUnreachable(error, opts.known))
          pgDownUntil = performance.now() + PG_OPEN_MS;
        if (app && (app.code === "dependency_unavailable" || app.extra.internal)) {
          // What the client is not told (the raw error, a provider's text) is logged under the
          // request id it is told, so that a report quoting it finds the cause.
          opts.log?.({
            level: "warn",
            msg:
              app.code === "dependency_unavailable"
                ? "dependency unavailable"
                : app.status < 500
                  ? "request refused"
                  : "request failed",
            ...app.extra.internal,
            request_id: requestId,
            path,
            code: app.code,
            status: app.status,
            ...(error === app ? {} : { error: String(error) }),
          });
        }
        if (!app) {
          opts.log?.({
            level: "error",
            msg: "unhandled error",
            request_id: requestId,
            path,
            error: String((error as Error)?.stack ?? error),
          });
          app = new AppError(
            "internal",
            `an unexpected error occurred; quote request id ${requestId} when reporting it`,
          );
        }
        const problem = problemOf(app, path, requestId);
        set.status = app.status;
        return new Response(JSON.stringify(problem), {
          status: app.status,
          headers: {
            "content-type": "application/problem+json",
            "x-request-id": requestId,
            // RFC 9110 §15.5.2: every 401 carries a challenge; the bearer check sends a precise one.
            ...(app.status === 401 ? { "www-authenticate": 'Bearer realm="feed"' } : {}),
            ...(app.extra.headers ?? {}),
          },
        });
      })
      .onAfterResponse({ as: "global" }, ({ request, route, set }) => {
        const started = startedAt.get(request);
        if (started === undefined || !opts.onRequestDone) return;
        const status = typeof set.status === "number" ? set.status : 200;
        opts.onRequestDone({
          method: request.method,
          route: route || "unmatched",
          status,
          seconds: (performance.now() - started) / 1000,
        });
      })
  );
};
