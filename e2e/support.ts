import { loadConfig } from "../core/config.ts";

// What every e2e suite needs: where the stack is, a JSON client, and sign-in through the mock
// identity provider as a browser would do it.

export const config = loadConfig();
export const base = process.env.E2E_BASE_URL ?? `http://localhost:${config.PORT}`;

/** A JSON call; the body and its content type only when there is a body. */
export async function http(
  method: string,
  path: string,
  token?: string,
  body?: unknown,
  headers: Record<string, string> = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests read loosely typed JSON bodies
): Promise<{ status: number; type: string; body: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...headers,
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get("content-type") ?? "",
    body: text ? JSON.parse(text) : null,
  };
}

/** Follows redirects by hand, keeping cookies per host, like `curl -L -c jar -b jar`. */
export async function browse(url: string): Promise<Response> {
  const jar = new Map<string, Map<string, string>>();
  let next = new URL(url);
  for (let hop = 0; hop < 10; hop++) {
    const cookies = jar.get(next.host);
    const res = await fetch(next, {
      redirect: "manual",
      headers: cookies?.size ? { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join("; ") } : {},
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const i = pair!.indexOf("=");
      const hostJar = jar.get(next.host) ?? new Map<string, string>();
      hostJar.set(pair!.slice(0, i), pair!.slice(i + 1));
      jar.set(next.host, hostJar);
    }
    if (res.status < 300 || res.status >= 400) return res;
    next = new URL(res.headers.get("location")!, next);
  }
  throw new Error("too many redirects");
}

export interface Session {
  access_token: string;
  refresh_token: string;
  token_type: string;
  user: { id: string; handle: string };
}

/** Signs in through the mock provider (no form: login_hint names the person). */
export async function signIn(hint: string): Promise<Session> {
  return (await (await browse(`${base}/auth/oidc/login?login_hint=${hint}`)).json()) as Session;
}
