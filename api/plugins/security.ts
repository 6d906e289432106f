import { Elysia } from "elysia";
import { type Config, perConfig } from "../../core/config.ts";

// Security headers on every response (problem responses and early refusals included: they are
// set before anything else runs), and CORS for the origins CORS_ORIGINS names.
//
// CORS is this small plugin rather than @elysiajs/cors: that one matches an origin without a
// scheme as a substring, sends Allow-Credentials and the allow/expose headers on every response
// by default (to any origin), and answers preflights through `OPTIONS /*` routes that would show
// up in the OpenAPI document. Here the origins are exact strings, a disallowed origin gets no
// CORS header at all, and preflights are answered before routing.

export const DOCS_PATH = "/docs";
export const OPENAPI_PATH = "/openapi.json";

/** The API serves JSON only: nothing on a response may load, run or frame anything. */
const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/**
 * /docs is @elysiajs/openapi's Scalar page: Scalar's standalone bundle from jsDelivr, inline
 * <style> blocks (its theme; Scalar also sets inline styles at run time), its fonts from
 * fonts.scalar.com, and the OpenAPI document fetched from here. Its inline `<script
 * id="api-reference">` holds only whitespace (Scalar reads the element's data attribute), so no
 * inline script needs allowing. Checked in Chromium with the bundle served in jsDelivr's place:
 * the page renders the same as without a policy; what it blocks is that empty script and
 * Scalar's calls to proxy.scalar.com (a registry of other companies' APIs), which the page does
 * not need and which would tell a third party who reads our docs.
 */
const DOCS_CSP = [
  "default-src 'none'",
  "script-src https://cdn.jsdelivr.net",
  "style-src 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.scalar.com",
  "font-src https://fonts.scalar.com https://cdn.jsdelivr.net data:",
  "img-src 'self' data: https:",
  "connect-src 'self'",
  "worker-src blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export const CORS_ALLOW_METHODS = "GET, POST, PUT, DELETE";
export const CORS_ALLOW_HEADERS = "Authorization, Content-Type, Idempotency-Key";
/** What a browser script may read of our responses beyond the CORS-safelisted headers. */
export const CORS_EXPOSE_HEADERS =
  "RateLimit, RateLimit-Policy, Retry-After, X-Request-Id, Idempotent-Replayed";
/** Seconds a browser may reuse a preflight answer (Chromium caps it at 2 hours). */
const CORS_MAX_AGE = "600";

/** The path of a request URL, without the query. */
export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return "/";
  const q = url.indexOf("?", start);
  return url.slice(start, q === -1 ? undefined : q);
}

/** Production is https whatever a proxy in between says (config refuses an http PUBLIC_URL there). */
export const httpsOf = perConfig(
  (c: Config) => c.NODE_ENV === "production" || new URL(c.PUBLIC_URL).protocol === "https:",
);

/** The security headers of a response to `path`; shared with api/server.ts's own answers. */
export function securityHeaders(config: Config, path: string): Record<string, string> {
  const docs = path === DOCS_PATH;
  const h: Record<string, string> = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "content-security-policy": docs ? DOCS_CSP : API_CSP,
  };
  // Over plain http (development) HSTS would be ignored at best and pin localhost at worst.
  if (httpsOf(config)) h["strict-transport-security"] = "max-age=31536000; includeSubDomains";
  // Everything but the public documentation is personal (feeds, profiles, presigned URLs that
  // expire) or live state (health, metrics): no cache may keep it. A handler may still set its own.
  if (!docs && path !== OPENAPI_PATH) h["cache-control"] = "no-store";
  return h;
}

export const securityPlugin = (config: Config) => {
  const origins = new Set(config.CORS_ORIGINS);
  return new Elysia().onRequest(({ request, set }) => {
    Object.assign(set.headers, securityHeaders(config, pathOf(request.url)));
    if (origins.size === 0) return;
    // The answer depends on Origin whenever CORS is on, also for requests without one.
    set.headers.vary = "Origin";
    const origin = request.headers.get("origin");
    const allowed = origin !== null && origins.has(origin);
    if (
      request.method === "OPTIONS" &&
      origin !== null &&
      request.headers.has("access-control-request-method")
    ) {
      // A preflight: answered here, before routing, authentication or rate limits. A disallowed
      // origin gets the same 204 without CORS headers, which the browser treats as a refusal.
      if (allowed) {
        set.headers["access-control-allow-origin"] = origin;
        set.headers["access-control-allow-methods"] = CORS_ALLOW_METHODS;
        set.headers["access-control-allow-headers"] = CORS_ALLOW_HEADERS;
        set.headers["access-control-max-age"] = CORS_MAX_AGE;
      }
      return new Response(null, { status: 204 });
    }
    if (allowed) Object.assign(set.headers, corsHeaders(config, request));
  });
};

/** The CORS headers of an ordinary (not preflight) response; none for an origin not allowed. */
export function corsHeaders(config: Config, request: Request): Record<string, string> {
  if (config.CORS_ORIGINS.length === 0) return {};
  const origin = request.headers.get("origin");
  if (origin === null || !config.CORS_ORIGINS.includes(origin)) return { vary: "Origin" };
  return {
    vary: "Origin",
    "access-control-allow-origin": origin,
    "access-control-expose-headers": CORS_EXPOSE_HEADERS,
  };
}
