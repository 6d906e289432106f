import createClient from "openapi-fetch";
import type { paths } from "./api.d.ts";

// The typed client of the feed API: openapi-fetch over the types generated from /openapi.json
// (client/api.d.ts). Paths, parameters, bodies and answers are checked by the compiler, so a
// route that changes shape breaks its callers' build.

export type { components, operations, paths } from "./api.d.ts";

export type FeedClient = ReturnType<typeof createClient<paths>>;

/** A client of the api at `baseUrl`, signed in with `token` when given. */
export function feedClient(
  baseUrl: string,
  o: { token?: string; fetch?: (request: Request) => Promise<Response> } = {},
): FeedClient {
  return createClient<paths>({
    baseUrl,
    headers: o.token ? { authorization: `Bearer ${o.token}` } : {},
    ...(o.fetch ? { fetch: o.fetch } : {}),
  });
}
