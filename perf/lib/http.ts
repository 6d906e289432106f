// Requests to the api as a signed-in user, as the perf tools send them.

/** `method path` with a bearer token; a body goes as JSON with an idempotency key (writes are retried safely). */
export function apiFetch(
  base: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
  init: Pick<RequestInit, "signal"> = {},
): Promise<Response> {
  return fetch(`${base}${path}`, {
    ...init,
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined
        ? {}
        : { "content-type": "application/json", "idempotency-key": crypto.randomUUID() }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}
