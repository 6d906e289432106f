import { Elysia } from "elysia";
import { dependencyOf, type KnownAddress } from "../../core/dependency-errors.ts";
import { AppError, dependencyUnavailable, type FieldError, problemResponse } from "../../core/errors.ts";
import { JSON_OR_MULTIPART } from "./limits.ts";
import { requestIdOf } from "./request-context.ts";

// Turns every error into RFC 9457 application/problem+json (core/errors.ts problemResponse).
// Unknown errors become a 500 that names the request id and never leaks a stack; an AppError's
// log-only `internal` fields go to the log, never the client. The request's id comes from the
// request context (./request-context.ts); the PostgreSQL breaker (./pg-breaker.ts) watches the
// same errors before this plugin answers them.

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
      if (v.type === "body" && request.method !== "GET" && !JSON_OR_MULTIPART.test(ct)) {
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
      if (down) return dependencyUnavailable(down);
      return new AppError("malformed_json", "request body is not valid JSON");
    }
    case "NOT_FOUND":
      return new AppError("not_found", `no route for ${request.method} ${new URL(request.url).pathname}`);
    default: {
      // An outage of PostgreSQL or Redis is not the client's mistake and not a bug here: 503
      // with Retry-After, so clients and balancers back off and try again.
      const down = dependencyOf(error, known);
      return down ? dependencyUnavailable(down) : null;
    }
  }
}

export interface ProblemOptions {
  /** Services' addresses, to name the one behind a bare socket error (core/dependency-errors.ts). */
  known?: readonly KnownAddress[];
  log?: (line: Record<string, unknown>) => void;
}

export const problemPlugin = (opts: ProblemOptions = {}) =>
  new Elysia({ name: "problem" }).onError({ as: "global" }, ({ code, error, request, set, ...ctx }) => {
    // Errors before the request context derived its id (the door's own refusals) name one too.
    const requestId = (ctx as { requestId?: string }).requestId ?? requestIdOf(request);
    const path = new URL(request.url).pathname;
    let app = toAppError(code, error, request, opts.known);
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
    set.status = app.status;
    return problemResponse(app, path, requestId);
  });
