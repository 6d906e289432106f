import { api, idempotency, type Post, problem, type User } from "../api.ts";
import { ago, h, toast } from "../dom.ts";

export function avatar(user: User, size: number): HTMLElement {
  const src = user.avatar_thumb_url ?? user.avatar_url;
  if (src) return h("img", { class: "avatar", src, alt: "", width: size, height: size, loading: "lazy" });
  // Sized through the CSSOM: the page's policy refuses style attributes.
  const blank = h("span", { class: "avatar blank" }, user.handle[0] ?? "?");
  blank.style.width = blank.style.height = `${size}px`;
  return blank;
}

/** A post: author, text, image (its thumbnail once made), and a like button with its count. */
export function postCard(post: Post): HTMLElement {
  const image = post.image
    ? h("img", {
        class: "image",
        src: post.image.thumb_url ?? post.image.url,
        alt: "",
        loading: "lazy",
        width: post.image.width,
        height: post.image.height,
      })
    : null;
  return h(
    "article",
    { class: "post", "data-id": post.id },
    h(
      "header",
      {},
      h("a", { href: `#/users/${post.author.id}`, class: "author" }, avatar(post.author, 40)),
      h(
        "div",
        {},
        h("a", { href: `#/users/${post.author.id}`, class: "name" }, post.author.display_name),
        " ",
        h("span", { class: "muted" }, `@${post.author.handle} · `),
        h("time", { datetime: post.created_at, class: "muted" }, ago(post.created_at)),
      ),
    ),
    h("p", { class: "text" }, post.text),
    image,
    likeButton(post),
  );
}

/** Liked state and count change at once, and go back if the api refuses. */
function likeButton(post: Post): HTMLButtonElement {
  let liked = post.liked_by_me;
  let count = Number(post.like_count);
  const button = h("button", { type: "button", class: "like" });
  const show = () => {
    button.textContent = `${liked ? "♥" : "♡"} ${count}`;
    button.setAttribute("aria-pressed", String(liked));
    button.setAttribute("aria-label", `${liked ? "Unlike" : "Like"} (${count} likes)`);
  };
  show();
  button.addEventListener("click", async () => {
    const was = { liked, count };
    liked = !liked;
    count += liked ? 1 : -1;
    show();
    button.disabled = true;
    const r = liked
      ? await api.POST("/likes", { body: { post_id: post.id }, params: { header: idempotency() } })
      : await api.DELETE("/likes/{post_id}", {
          params: { path: { post_id: post.id }, header: idempotency() },
        });
    button.disabled = false;
    if (r.error !== undefined) {
      ({ liked, count } = was);
      show();
      toast(problem(r.error).message);
    }
  });
  return button;
}
