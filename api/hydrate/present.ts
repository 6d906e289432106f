import type { CachedPost, CachedUser } from "../../core/cache.ts";
import type { Deps } from "../deps.ts";

// Presentation: the wire shapes of DESIGN §6. Media URLs are presigned GETs that expire, made
// fresh for every response (mediaUrls), never stored.

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

/** Presigned URLs for the given object keys (nulls skipped), made in parallel. */
export async function mediaUrls(
  deps: Deps,
  keys: readonly (string | null | undefined)[],
): Promise<MediaUrls> {
  const wanted = [...new Set(keys.filter((k): k is string => !!k))];
  const out = new Map<string, string>();
  if (!deps.storage || wanted.length === 0) return out;
  const urls = await Promise.all(wanted.map((k) => deps.storage!.url(k)));
  for (let i = 0; i < wanted.length; i++) out.set(wanted[i]!, urls[i]!);
  return out;
}

/** The media keys of a user, for mediaUrls. */
export const userMediaKeys = (u: CachedUser) => [u.avatar_key, u.avatar_thumb_key];

export function presentUser(_deps: Deps, u: CachedUser, urls: MediaUrls = new Map()): WireUser {
  return {
    id: u.id,
    handle: u.handle,
    display_name: u.display_name,
    avatar_url: u.avatar_key ? (urls.get(u.avatar_key) ?? null) : null,
    avatar_thumb_url: u.avatar_thumb_key ? (urls.get(u.avatar_thumb_key) ?? null) : null,
  };
}

export function presentPost(
  deps: Deps,
  p: CachedPost,
  author: CachedUser,
  x: { at: number; likeCount: number; likedByMe: boolean },
  urls: MediaUrls = new Map(),
): WirePost {
  return {
    id: p.id,
    author: presentUser(deps, author, urls),
    text: p.text,
    created_at: new Date(x.at).toISOString(),
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
