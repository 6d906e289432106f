// The one error catalogue: every error the API answers has a code here, with its status and
// title. Routes throw AppError; problemResponse below renders it as RFC 9457
// application/problem+json, for the api's problem plugin (api/plugins/problem.ts), the api
// server's own early answers (api/server.ts) and the projector's metrics server alike.

export const ERRORS = {
  validation_failed: { status: 400, title: "Request validation failed" },
  malformed_json: { status: 400, title: "Malformed JSON body" },
  invalid_cursor: { status: 400, title: "Invalid cursor" },
  idempotency_key_missing: { status: 400, title: "Idempotency-Key header required" },
  idempotency_key_invalid: { status: 400, title: "Invalid Idempotency-Key header" },
  return_to_invalid: { status: 400, title: "return_to is not one of the configured AUTH_RETURN_URLS" },
  auth_code_invalid: { status: 400, title: "Sign-in code unknown, expired, already used or for another app" },
  login_state_invalid: { status: 400, title: "Sign-in state missing, mismatched, expired or already used" },
  provider_error: { status: 400, title: "The identity provider refused the sign-in" },
  unauthorized: { status: 401, title: "Authentication required" },
  id_token_invalid: { status: 401, title: "The identity provider's ID token failed verification" },
  refresh_token_invalid: { status: 401, title: "Refresh token invalid or expired" },
  refresh_token_reused: { status: 401, title: "Refresh token already used; the session was revoked" },
  forbidden: { status: 403, title: "Forbidden" },
  not_found: { status: 404, title: "Not found" },
  post_not_found: { status: 404, title: "Post not found" },
  user_not_found: { status: 404, title: "User not found" },
  provider_not_found: { status: 404, title: "Unknown or disabled sign-in provider" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  request_body_timeout: { status: 408, title: "The request body did not arrive in time" },
  idempotency_in_flight: { status: 409, title: "A request with this Idempotency-Key is still in progress" },
  payload_too_large: { status: 413, title: "Payload too large" },
  uri_too_long: { status: 414, title: "URI too long" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  idempotency_key_reused: { status: 422, title: "Idempotency-Key reused with a different request" },
  self_follow: { status: 422, title: "You cannot follow yourself" },
  rate_limited: { status: 429, title: "Too many requests" },
  upload_quota_exceeded: { status: 429, title: "Too many pending uploads" },
  header_fields_too_large: { status: 431, title: "Request header fields too large" },
  internal: { status: 500, title: "Internal server error" },
  not_ready: { status: 503, title: "Service not ready" },
  dependency_unavailable: { status: 503, title: "A backing service is unavailable" },
  request_timeout: { status: 503, title: "The request took too long to handle" },
  media_busy: { status: 503, title: "Too many images are being processed; retry shortly" },
  provider_unavailable: { status: 502, title: "The identity provider could not be reached" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERRORS;

export interface FieldError {
  location: "body" | "query" | "params" | "headers" | "cookie";
  path: string;
  message: string;
}

export interface AppErrorExtra {
  errors?: FieldError[];
  headers?: Record<string, string>;
  /**
   * For the log only, never rendered: what the client must not be told (a provider's own error
   * text, an exception's message, an address). The problem plugin logs it with the request id.
   */
  internal?: Record<string, unknown>;
}

export class AppError extends Error {
  override name = "AppError";
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    /** Shown to the client: a sentence about its request, naming nothing internal. */
    readonly detail: string,
    readonly extra: AppErrorExtra = {},
  ) {
    super(detail);
    this.status = ERRORS[code].status;
  }

  /** The same error with more log-only fields (those already set win). */
  withInternal(fields: Record<string, unknown>): AppError {
    return new AppError(this.code, this.detail, {
      ...this.extra,
      internal: { ...fields, ...this.extra.internal },
    });
  }
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  request_id?: string;
  errors?: FieldError[];
}

export function problemOf(err: AppError, instance?: string, requestId?: string): Problem {
  const p: Problem = {
    type: `/problems/${err.code}`,
    title: ERRORS[err.code].title,
    status: err.status,
    detail: err.detail,
    code: err.code,
  };
  if (instance) p.instance = instance;
  if (requestId) p.request_id = requestId;
  if (err.extra.errors?.length) p.errors = err.extra.errors;
  return p;
}

/** What an outage answers: which service is down, and where, is for the log only. */
export const dependencyUnavailable = (down: string) =>
  new AppError("dependency_unavailable", "a backing service is unavailable; retry shortly", {
    headers: { "retry-after": "1" },
    internal: { dependency: down },
  });

/**
 * The one rendering of an error as an HTTP answer: `headers` first (a server's own, such as
 * security headers), then the problem's, then the error's own (Retry-After, Connection).
 */
export function problemResponse(
  err: AppError,
  instance?: string,
  requestId?: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(problemOf(err, instance, requestId)), {
    status: err.status,
    headers: {
      ...headers,
      "content-type": "application/problem+json",
      ...(requestId ? { "x-request-id": requestId } : {}),
      // RFC 9110 §15.5.2: every 401 carries a challenge; the bearer check sends a precise one.
      ...(err.status === 401 ? { "www-authenticate": 'Bearer realm="feed"' } : {}),
      ...(err.extra.headers ?? {}),
    },
  });
}
