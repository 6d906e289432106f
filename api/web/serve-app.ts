import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../../core/config.ts";
import { AppError } from "../../core/errors.ts";
import type { Deps } from "../deps.ts";

// The web client (web/, built by Vite into web/dist) at /app/. Its few files are read once at
// start into memory and answered as ready-made bytes: no file system access per request, and no
// path from a request ever reaches the file system. Vite names assets by their content hash, so
// they are cached for good; index.html is revalidated every time.

/** Where `vite build` writes the client. */
export const WEB_DIST = join(import.meta.dir, "../../web/dist");

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
  webmanifest: "application/manifest+json",
};

interface Asset {
  bytes: Uint8Array;
  type: string;
  etag: string;
  cache: string;
}

/** Every file under `dir` by its URL path below /app/ (index.html as ""), or none when unbuilt. */
export function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  let names: string[];
  try {
    names = readdirSync(dir, { recursive: true, encoding: "utf8" });
  } catch {
    return assets;
  }
  for (const name of names) {
    const file = join(dir, name);
    if (!statSync(file).isFile()) continue;
    const ext = name.slice(name.lastIndexOf(".") + 1);
    const bytes = new Uint8Array(readFileSync(file));
    const path = name === "index.html" ? "" : name.split("\\").join("/");
    const asset = {
      bytes,
      type: TYPES[ext] ?? "application/octet-stream",
      etag: `"${Bun.hash(bytes).toString(36)}"`,
      cache: path.startsWith("assets/") ? "public, max-age=31536000, immutable" : "no-cache",
    };
    assets.set(path, asset);
    if (path === "") assets.set(name, asset);
  }
  return assets;
}

/**
 * The page's policy: its own scripts and styles only; images and the direct upload's POST may
 * also go to the media origin (presigned S3 URLs), and a picked file is previewed from a blob.
 */
export function appCsp(config: Config): string {
  const s3 = config.S3_PUBLIC_ENDPOINT || config.S3_ENDPOINT;
  const media = s3 ? ` ${new URL(s3).origin}` : "";
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' blob: data:${media}`,
    `connect-src 'self'${media}`,
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/**
 * GET /app/{path}: the file at `path` below /app/ ("" for the page) as ready bytes under the
 * page's policy, 304 when the client has it, or 404.
 */
export function serveApp(deps: Pick<Deps, "config">, dir = WEB_DIST) {
  const assets = loadAssets(dir);
  const csp = appCsp(deps.config);
  return (path: string, request: Request, set: { headers: Record<string, unknown>; status?: unknown }) => {
    const asset = assets.get(path);
    if (!asset) {
      throw new AppError(
        "not_found",
        assets.size === 0
          ? "the web client is not built: bun run web:build (./dev up builds it)"
          : `no such file in the web client: /app/${path}`,
      );
    }
    set.headers["content-security-policy"] = csp;
    set.headers["cache-control"] = asset.cache;
    set.headers.etag = asset.etag;
    if (request.headers.get("if-none-match") === asset.etag) {
      set.status = 304;
      return null;
    }
    return new Response(asset.bytes, { headers: { "content-type": asset.type } });
  };
}
