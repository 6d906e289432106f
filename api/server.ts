import type { Server } from "bun";
import type { Config } from "../core/config.ts";
import { AppError, problemResponse } from "../core/errors.ts";
import type { App } from "./app.ts";
import type { Deps, Lifecycle } from "./deps.ts";
import type { ApiMetrics } from "./metrics.ts";
import { bodyLimit, bodyPending, readCapped } from "./plugins/limits.ts";
import { requestIdOf } from "./plugins/request-context.ts";
import { corsHeaders, pathOf, securityHeaders } from "./plugins/security.ts";

// The api's HTTP server around createApp: Bun.serve with the idle timeout and the outer body
// limit, a deadline on every request, and a drain for SIGTERM. main.ts runs it; tests start it
// on a free port to speak raw HTTP to it.
//
// What bounds a connection, in order:
// - headers: Bun itself closes a connection whose request line and headers are not complete
//   within 8-12 s, whatever idleTimeout says, and refuses more than 16 KiB of them (431);
// - body and handler: REQUEST_TIMEOUT_MS, answered here with 408 (the body was still arriving)
//   or 503 (we were slow);
// - anything else: IDLE_TIMEOUT_SECONDS, after which Bun closes the connection: idle keep-alive
//   connections, and a request still running then, without an answer. Bun's timers tick every
//   4 s, so that can come up to 4 s early; config.ts keeps the deadline below the earliest close.

type Fetch = (request: Request, server: Server<undefined>) => Response | Promise<Response>;

export interface DeadlineOptions {
  config: Config;
  lifecycle?: Lifecycle;
  metrics?: ApiMetrics;
  log?: (line: Record<string, unknown>) => void;
}

/** An answer of the server itself, before or around the app: the app's problem, its headers. */
function serverProblem(config: Config, request: Request, err: AppError): Response {
  const path = pathOf(request.url);
  return problemResponse(err, path, requestIdOf(request), {
    ...securityHeaders(config, path),
    ...corsHeaders(config, request),
  });
}

/**
 * `fetch` with a deadline: a request not answered within REQUEST_TIMEOUT_MS gets a problem
 * response instead of a hang. The handler is not stopped (JavaScript cannot cancel it); its
 * queries are bounded by statement_timeout and its late answer is dropped.
 */
export function withDeadline(fetch: Fetch, o: DeadlineOptions): Fetch {
  const ms = o.config.REQUEST_TIMEOUT_MS;
  return async (request, server) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), ms);
    });
    let res: Response;
    try {
      const answered = await Promise.race([fetch(request, server), expired]);
      res = answered ?? timedOut(request);
    } catch (e) {
      // Elysia answers its own errors; this is a failure of the server glue itself.
      o.log?.({ level: "error", msg: "unhandled error outside the app", error: String(e) });
      res = serverProblem(o.config, request, new AppError("internal", "an unexpected error occurred"));
    } finally {
      clearTimeout(timer);
    }
    if (o.lifecycle?.draining) {
      // Keep-alive clients must reconnect elsewhere: this process is going away.
      try {
        res.headers.set("connection", "close");
      } catch {}
    }
    return res;
  };

  function timedOut(request: Request): Response {
    const slowBody = bodyPending.has(request);
    const phase = slowBody ? "body" : "handler";
    o.metrics?.requestTimeouts.inc({ phase });
    o.log?.({
      level: "warn",
      msg: "request deadline passed",
      method: request.method,
      path: pathOf(request.url),
      phase,
      timeout_ms: ms,
    });
    if (slowBody) {
      // Unread body bytes cannot be told from the next request: the connection goes.
      return serverProblem(
        o.config,
        request,
        new AppError("request_body_timeout", `the request body did not arrive within ${ms} ms`, {
          headers: { connection: "close" },
        }),
      );
    }
    return serverProblem(
      o.config,
      request,
      new AppError("request_timeout", `the request was not handled within ${ms} ms; retry shortly`, {
        headers: { "retry-after": "1" },
      }),
    );
  }
}

/**
 * A body that declares no length (chunked) is read here with its cap (413 as soon as it runs
 * past it, the rest never read) and handed on as a request with a length, so that the app's
 * parsers never meet an unbounded body. The read counts as the body arriving for the deadline.
 */
export function withCappedBody(fetch: Fetch, config: Config): Fetch {
  return async (request, server) => {
    if (
      !request.body ||
      request.method === "GET" ||
      request.method === "HEAD" ||
      request.headers.has("content-length")
    )
      return fetch(request, server);
    bodyPending.add(request);
    let bytes: Uint8Array;
    try {
      bytes = await readCapped(request, bodyLimit(config, request.headers.get("content-type")));
    } catch (e) {
      if (!(e instanceof AppError)) throw e;
      return serverProblem(config, request, e);
    } finally {
      bodyPending.delete(request);
    }
    const headers = new Headers(request.headers);
    headers.delete("transfer-encoding");
    headers.set("content-length", String(bytes.byteLength));
    return fetch(new Request(request.url, { method: request.method, headers, body: bytes }), server);
  };
}

export interface ApiServer {
  server: Server<undefined>;
  /**
   * Stops accepting connections, lets in-flight requests finish for up to `timeoutMs`, then
   * closes whatever is left. True when everything finished in time.
   */
  drain(timeoutMs: number): Promise<boolean>;
}

export function serveApi(
  app: App,
  deps: Deps,
  opts: { port: number; hostname?: string; log?: (line: Record<string, unknown>) => void },
): ApiServer {
  const lifecycle = deps.lifecycle ?? { draining: false };
  const server = Bun.serve({
    port: opts.port,
    hostname: opts.hostname ?? "0.0.0.0",
    idleTimeout: deps.config.IDLE_TIMEOUT_SECONDS,
    // The outer guard, above the app's own limits (which answer problem+json): Bun stops a body
    // past it whatever the app is doing.
    maxRequestBodySize: 4 * deps.config.MEDIA_MAX_BYTES,
    fetch: withDeadline(withCappedBody(app.fetch, deps.config), {
      config: deps.config,
      lifecycle,
      metrics: deps.metrics,
      log: opts.log ?? deps.log,
    }),
  });
  // Elysia learns its server only through its own listen(): without this, handlers' `server` is
  // null and requestIP (the per-IP sign-in limit) sees every client as "unknown".
  (app as unknown as { server: unknown }).server = server;
  return {
    server,
    async drain(timeoutMs) {
      lifecycle.draining = true;
      // stop(false): the listener closes (new connections are refused), idle keep-alive
      // connections are closed, and the promise settles when in-flight requests are done.
      const stopped = server.stop(false).then(() => true);
      const drained = await Promise.race([stopped, Bun.sleep(timeoutMs).then(() => false)]);
      if (!drained) await server.stop(true);
      return drained;
    },
  };
}
