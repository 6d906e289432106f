import { api, me, ok, type Post, type Profile } from "../api.ts";
import { h, toast } from "../dom.ts";
import { uploadImage } from "../upload.ts";
import { composer } from "./compose.ts";
import { avatar } from "./post.ts";
import { timeline } from "./timeline.ts";

// The pages: home (the composer and the personal feed), discover, a profile, and sign-in.

export function home(): HTMLElement {
  const feed = timeline(
    async (query) => ok(await api.GET("/feed", { params: { query: { limit: 20, ...query } } })),
    "Your feed is empty: follow people from Discover or their profiles.",
  );
  return h(
    "div",
    {},
    composer((post: Post) => feed.show(post)),
    feed.root,
  );
}

export function discover(): HTMLElement {
  return h(
    "div",
    {},
    h("h1", {}, "Popular now"),
    timeline(
      async () => ({
        ...ok(await api.GET("/posts/popular", { params: { query: { limit: 30 } } })),
        next_cursor: null,
        prev_cursor: null,
        has_newer: false,
      }),
      "Nothing popular yet.",
    ).root,
  );
}

export async function profile(id: string): Promise<HTMLElement> {
  const p = ok(await api.GET("/users/{id}", { params: { path: { id } } }));
  const own = me?.id === p.id;
  return h(
    "div",
    {},
    profileHeader(p, own),
    timeline(
      async (query) =>
        ok(await api.GET("/users/{id}/posts", { params: { path: { id }, query: { limit: 20, ...query } } })),
      "No posts yet.",
    ).root,
  );
}

function profileHeader(p: Profile, own: boolean): HTMLElement {
  const counts = h("p", { class: "counts muted" }, countsOf(p));
  const pic = h("div", { class: "pic" }, avatar(p, 96));
  return h(
    "section",
    { class: "profile", "data-user-id": p.id },
    pic,
    h("div", {}, h("h1", {}, p.display_name), h("p", { class: "muted" }, `@${p.handle}`), counts),
    own ? avatarPicker(pic) : followButton(p, counts),
  );
}

const plural = (n: number | string, one: string, many = `${one}s`) => `${n} ${Number(n) === 1 ? one : many}`;

const countsOf = (p: Profile) =>
  `${plural(p.posts_count, "post")} · ${plural(p.followers_count, "follower")} · ${p.following_count} following`;

function followButton(p: Profile, counts: HTMLElement): HTMLButtonElement {
  let following = p.followed_by_me;
  const button = h("button", { type: "button", class: "follow" });
  const show = () => {
    button.textContent = following ? "Following ✓" : "Follow";
    button.setAttribute("aria-pressed", String(following));
    counts.textContent = countsOf(p);
  };
  show();
  button.addEventListener("click", async () => {
    button.disabled = true;
    const key = { "idempotency-key": crypto.randomUUID() };
    const r = following
      ? await api.DELETE("/follows/{user_id}", { params: { path: { user_id: p.id }, header: key } })
      : await api.POST("/follows", { body: { user_id: p.id }, params: { header: key } });
    button.disabled = false;
    if (r.error !== undefined) return toast("could not change the follow: try again");
    following = !following;
    p.followers_count = Number(p.followers_count) + (following ? 1 : -1);
    show();
  });
  return button;
}

function avatarPicker(pic: HTMLElement): HTMLElement {
  const file = h("input", { type: "file", name: "avatar", accept: "image/jpeg,image/png,image/webp" });
  file.addEventListener("change", async () => {
    const f = file.files?.[0];
    if (!f) return;
    try {
      const upload_key = await uploadImage(f, "avatar");
      const user = ok(await api.PUT("/me/avatar", { body: { upload_key } }));
      pic.replaceChildren(avatar(user, 96));
    } catch (e) {
      toast((e as Error).message);
    }
  });
  return h("label", { class: "button" }, "Change avatar ", file);
}

export function signIn(providers: string[]): HTMLElement {
  const hint = h("input", { name: "login_hint", placeholder: "name (optional)", autocomplete: "username" });
  const form = h(
    "form",
    { class: "sign-in" },
    h("h1", {}, "Sign in"),
    hint,
    ...providers.map((name) => h("button", { type: "submit", value: name }, `Continue with ${name}`)),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const provider = (e.submitter as HTMLButtonElement | null)?.value ?? providers[0];
    const url = new URL(`/auth/${provider}/login`, location.origin);
    url.searchParams.set("return_to", `${location.origin}/app/`);
    if (hint.value) url.searchParams.set("login_hint", hint.value);
    location.assign(url);
  });
  if (providers.length === 0) toast("no sign-in provider is enabled on this server");
  return form;
}
