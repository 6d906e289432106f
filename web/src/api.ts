import { type FeedClient, feedClient, type paths } from "../../client/index.ts";

// The api, through the typed client generated from /openapi.json. The access token lives in
// memory only; the refresh token is in an HttpOnly cookie the page cannot read. A 401 is answered
// by one refresh and one retry.

type Json<T> = T extends { content: { "application/json": infer B } } ? B : never;
export type Page = Json<paths["/feed"]["get"]["responses"][200]>;
export type Post = Page["items"][number];
export type User = Post["author"];
export type Profile = Json<paths["/users/{id}"]["get"]["responses"][200]>;
type Problem = { title?: string; detail?: string; code?: string };

/** Where sign-in returns to: this app (one of the api's AUTH_RETURN_URLS). */
export const APP_URL = `${location.origin}/app/`;

let accessToken: string | null = null;
let refreshing: Promise<boolean> | null = null;

export let me: User | null = null;

/** Starts a session from a sign-in's answer (exchange or refresh). */
function begin(pair: { access_token: string; user: User }): void {
  accessToken = pair.access_token;
  me = pair.user;
}

/** A new access token from the refresh cookie; false when there is no session to renew. */
export function refresh(): Promise<boolean> {
  refreshing ??= api
    .POST("/auth/refresh", { body: { refresh: "cookie" } })
    .then(({ data }) => {
      if (!data) return false;
      begin(data);
      return true;
    })
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

/** Trades the one-time code sign-in returned with for a session. */
export async function exchange(code: string): Promise<void> {
  const { data, error } = await api.POST("/auth/exchange", {
    body: { code, return_to: APP_URL, refresh: "cookie" },
  });
  if (error) throw problem(error);
  begin(data);
}

export async function signOut(): Promise<void> {
  await api.POST("/auth/logout", { body: {} });
  accessToken = null;
  me = null;
}

/** fetch with the access token, renewed once on a 401. */
async function authedFetch(request: Request): Promise<Response> {
  const send = (r: Request) => {
    if (accessToken) r.headers.set("authorization", `Bearer ${accessToken}`);
    return fetch(r);
  };
  const res = await send(request.clone());
  if (res.status !== 401 || request.url.includes("/auth/") || !(await refresh())) return res;
  return send(request);
}

export const api: FeedClient = feedClient(location.origin, { fetch: authedFetch });

/** An Error carrying a problem's title and detail (RFC 9457), to show as it is. */
export function problem(body: unknown): Error {
  const p = (body ?? {}) as Problem;
  return new Error([p.title, p.detail].filter(Boolean).join(": ") || "something went wrong");
}

/** The data of an answer, or its problem thrown. */
export function ok<T>(r: { data?: T; error?: unknown; response: Response }): T {
  if (r.error !== undefined || r.data === undefined) throw problem(r.error);
  return r.data;
}

/** One key per intended write: a retried click replays instead of writing twice. */
export const idempotency = () => ({ "idempotency-key": crypto.randomUUID() });
