import type { CachedPost, CachedUser } from "../../core/cache.ts";
import type { Deps } from "../deps.ts";

// Presentation: the wire shapes of DESIGN §6. Media URLs (presigned GETs) arrive with the media
// issue; until then avatar_url and image are null.

export interface WireUser {
  id: string;
  handle: string;
  display_name: string;
  avatar_url: string | null;
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

export function presentUser(_deps: Deps, u: CachedUser): WireUser {
  return { id: u.id, handle: u.handle, display_name: u.display_name, avatar_url: null };
}

export function presentPost(
  deps: Deps,
  p: CachedPost,
  author: CachedUser,
  x: { at: number; likeCount: number; likedByMe: boolean },
): WirePost {
  return {
    id: p.id,
    author: presentUser(deps, author),
    text: p.text,
    created_at: new Date(x.at).toISOString(),
    image: null,
    like_count: Math.max(0, x.likeCount),
    liked_by_me: x.likedByMe,
  };
}
