import type { CachedPost, CachedUser } from "../../core/cache.ts";
import { timestampOf } from "../../core/ids.ts";
import type { Deps } from "../deps.ts";

// Presentation: the wire shapes of docs/architecture.md §6. Media URLs are presigned GETs that
// expire, reused by a process for a third of their lifetime (signedUrls), never stored elsewhere.

export interface WireUser {
  id: string;
  handle: string;
  display_name: string;
  avatar_url: string | null;
  avatar_thumb_url: string | null;
}

export interface WirePost {
  id: string;
  author: WireUser;
  text: string;
  created_at: string;
  image: { url: string; thumb_url: string | null; width: number | null; height: number | null } | null;
  like_count: number;
  liked_by_me: boolean;
}

export type MediaUrls = ReadonlyMap<string, string>;

/**
 * Presigned URLs for the given object keys (nulls skipped), made in parallel. Each is signed for
 * MEDIA_URL_TTL_SECONDS and, with the process's memory cache, served again for a third of that:
 * a URL handed out late in its reuse still has two thirds of its life for the client.
 */
export async function mediaUrls(
  deps: Deps,
  keys: readonly (string | null | undefined)[],
): Promise<MediaUrls> {
  return (await signedUrls(deps, keys)).urls;
}

/** mediaUrls, and until when they may all be served again (Infinity for none). */
export async function signedUrls(
  deps: Deps,
  keys: readonly (string | null | undefined)[],
): Promise<{ urls: Map<string, string>; until: number }> {
  const wanted = [...new Set(keys.filter((k): k is string => !!k))];
  const urls = new Map<string, string>();
  let until = Number.POSITIVE_INFINITY;
  if (!deps.storage || wanted.length === 0) return { urls, until };
  const now = Date.now();
  const toSign: string[] = [];
  for (const k of wanted) {
    const reused = deps.memory?.urls.get(k);
    if (reused && reused.until > now) {
      urls.set(k, reused.url);
      until = Math.min(until, reused.until);
    } else toSign.push(k);
  }
  const signed = await Promise.all(toSign.map((k) => deps.storage!.url(k)));
  const reuseUntil = now + (deps.config.MEDIA_URL_TTL_SECONDS * 1000) / 3;
  toSign.forEach((k, i) => {
    urls.set(k, signed[i]!);
    deps.memory?.urls.set(k, { url: signed[i]!, until: reuseUntil });
  });
  if (toSign.length) until = Math.min(until, reuseUntil);
  return { urls, until };
}

/** The media keys of a post, for mediaUrls. */
export const postMediaKeys = (p: CachedPost) => [p.image_key, p.image_variants?.["320"]?.key];

/** The media keys of a user, for mediaUrls. */
export const userMediaKeys = (u: CachedUser) => [u.avatar_key, u.avatar_thumb_key];

export function presentUser(u: CachedUser, urls: MediaUrls = new Map()): WireUser {
  return {
    id: u.id,
    handle: u.handle,
    display_name: u.display_name,
    avatar_url: u.avatar_key ? (urls.get(u.avatar_key) ?? null) : null,
    avatar_thumb_url: u.avatar_thumb_key ? (urls.get(u.avatar_thumb_key) ?? null) : null,
  };
}

export function presentPost(
  p: CachedPost,
  author: CachedUser,
  x: { at?: number; likeCount: number; likedByMe: boolean },
  urls: MediaUrls = new Map(),
): WirePost {
  return {
    id: p.id,
    author: presentUser(author, urls),
    text: p.text,
    created_at: new Date(x.at ?? timestampOf(p.id)).toISOString(),
    image:
      p.image_key && urls.get(p.image_key)
        ? {
            url: urls.get(p.image_key)!,
            thumb_url: (p.image_variants?.["320"] && urls.get(p.image_variants["320"].key)) || null,
            width: p.image_width ?? null,
            height: p.image_height ?? null,
          }
        : null,
    like_count: Math.max(0, x.likeCount),
    liked_by_me: x.likedByMe,
  };
}
