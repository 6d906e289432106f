import type { Page, Post } from "../api.ts";
import { h, toast } from "../dom.ts";
import { postCard } from "./post.ts";

// A list of posts read page by page: older pages as the end scrolls into view (cursor), newer
// ones on pull-to-refresh or the button (after, repeated while has_newer says more remain).

export type Fetch = (q: { cursor?: string; after?: string }) => Promise<Page>;

/** Pages of newer posts fetched per refresh at most; past it the list starts over. */
const NEWER_PAGES = 5;
/** How far a touch must pull down from the top to refresh, in CSS pixels. */
const PULL_PX = 70;

export interface Timeline {
  root: HTMLElement;
  /** Puts a post on top (one the user just wrote); a page that brings it again skips it. */
  show(post: Post): void;
}

export function timeline(fetchPage: Fetch, empty: string): Timeline {
  const list = h("div", { class: "posts" });
  const end = h("p", { class: "end muted" }, "Loading…");
  const newer = h("button", { type: "button", class: "newer" }, "↻ Newer posts");
  const root = h("section", { class: "timeline" }, newer, list, end);
  let older: string | null = null;
  let newest: string | null = null;
  let busy = false;
  const seen = new Set<string>();

  const add = (posts: Post[], where: "top" | "bottom") => {
    const fresh = posts.filter((p) => !seen.has(p.id));
    for (const p of fresh) seen.add(p.id);
    const cards = fresh.map(postCard);
    if (where === "top") list.prepend(...cards);
    else list.append(...cards);
    return cards.length;
  };

  const run = async (work: () => Promise<void>) => {
    if (busy) return;
    busy = true;
    try {
      await work();
    } catch (e) {
      toast((e as Error).message);
    } finally {
      busy = false;
    }
  };

  const loadOlder = () =>
    run(async () => {
      const first = newest === null && older === null;
      const page = await fetchPage(older ? { cursor: older } : {});
      if (first) newest = page.prev_cursor;
      add(page.items, "bottom");
      older = page.next_cursor;
      end.textContent = older ? "" : seen.size ? "That's all." : empty;
      if (older) observer.observe(end);
      else observer.disconnect();
    });

  const loadNewer = () =>
    run(async () => {
      root.classList.add("refreshing");
      try {
        if (!newest) {
          // Nothing was shown yet: the first page is the newest.
          const page = await fetchPage({});
          newest = page.prev_cursor;
          add(page.items, "top");
          return;
        }
        for (let i = 0; i < NEWER_PAGES; i++) {
          const page = await fetchPage({ after: newest });
          // Each page holds the posts right after the last: the newest go on top.
          if (add(page.items, "top") === 0 && !page.has_newer) break;
          newest = page.prev_cursor ?? newest;
          if (!page.has_newer) break;
        }
        if (seen.size) end.textContent = older ? "" : "That's all.";
      } finally {
        root.classList.remove("refreshing");
      }
    });

  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && older) void loadOlder();
  });
  newer.addEventListener("click", () => void loadNewer());

  // Pull-to-refresh: a touch that starts at the top of the page and pulls down far enough.
  let startY: number | null = null;
  root.addEventListener(
    "touchstart",
    (e) => {
      startY = window.scrollY === 0 ? (e.touches[0]?.clientY ?? null) : null;
    },
    { passive: true },
  );
  root.addEventListener(
    "touchmove",
    (e) => {
      if (startY === null) return;
      const pulled = (e.touches[0]?.clientY ?? startY) - startY;
      root.style.setProperty("--pull", `${Math.min(Math.max(pulled, 0), PULL_PX)}px`);
      if (pulled < PULL_PX) return;
      startY = null;
      root.style.removeProperty("--pull");
      void loadNewer();
    },
    { passive: true },
  );
  root.addEventListener("touchend", () => {
    startY = null;
    root.style.removeProperty("--pull");
  });

  void loadOlder();
  return {
    root,
    show: (post) => {
      add([post], "top");
      end.textContent = older ? "" : "That's all.";
    },
  };
}
