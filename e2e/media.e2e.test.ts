import { describe, expect, test } from "bun:test";
import sharp from "sharp";
import { loadConfig } from "../core/config.ts";

// Uploads over real HTTP against the running stack and its local S3 endpoint.

const config = loadConfig();
const base = process.env.E2E_BASE_URL ?? `http://localhost:${config.PORT}`;

async function signIn(hint: string): Promise<string> {
  // The mock provider needs no form: follow the two redirects by hand, carrying the cookie.
  const login = await fetch(`${base}/auth/oidc/login?login_hint=${hint}`, { redirect: "manual" });
  const cookie = login.headers.getSetCookie()[0]!.split(";")[0]!;
  const atIdp = await fetch(login.headers.get("location")!, { redirect: "manual" });
  const done = await fetch(atIdp.headers.get("location")!, { headers: { cookie } });
  return ((await done.json()) as { access_token: string }).access_token;
}

function put(token: string, file: Blob) {
  const form = new FormData();
  form.append("file", file);
  return fetch(`${base}/me/avatar`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
}

describe("avatars over HTTP", () => {
  test("sign in, upload an avatar, download it through the presigned URL", async () => {
    const token = await signIn(`pic${Date.now().toString(36)}`);
    const jpeg = await sharp({ create: { width: 120, height: 80, channels: 3, background: "#a50" } })
      .jpeg()
      .toBuffer();
    const res = await put(token, new File([jpeg], "me.jpg", { type: "image/jpeg" }));
    expect(res.status).toBe(200);
    const { avatar_url } = (await res.json()) as { avatar_url: string };
    const img = await fetch(avatar_url);
    expect(img.status).toBe(200);
    expect(new Uint8Array(await img.arrayBuffer())).toEqual(new Uint8Array(jpeg));
  });

  test("a body over the limit is a 413 problem, not a reset connection", async () => {
    const token = await signIn(`big${Date.now().toString(36)}`);
    const res = await put(
      token,
      new File([new Uint8Array(7 * 1024 * 1024)], "big.jpg", { type: "image/jpeg" }),
    );
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
  });
});
