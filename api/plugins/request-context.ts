import { Elysia } from "elysia";

// What every request carries through the app: its id (the client's X-Request-Id when it is a
// plain one, else a new one), answered in X-Request-Id, and its timing, reported once the answer
// is sent (onRequestDone: the request metric and log line, api/app.ts).

const REQUEST_ID = /^[A-Za-z0-9._-]{8,100}$/;

/** The request's id: the client's X-Request-Id when it is a plain one, else a new one. */
export function requestIdOf(request: Request): string {
  const incoming = request.headers.get("x-request-id");
  return incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
}

export interface RequestDone {
  method: string;
  route: string;
  status: number;
  seconds: number;
}

export const requestContext = (opts: { onRequestDone?: (r: RequestDone) => void } = {}) => {
  // Set first thing, so requests refused before routing (a fast 503) are timed too.
  const startedAt = new WeakMap<Request, number>();
  return new Elysia({ name: "request-context" })
    .onRequest(({ request }) => {
      startedAt.set(request, performance.now());
    })
    .derive({ as: "global" }, ({ request }) => ({ requestId: requestIdOf(request) }))
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
    });
};
