import "./style.css";
import { api, exchange, me, refresh, signOut } from "./api.ts";
import { h, toast } from "./dom.ts";
import { discover, home, profile, signIn } from "./views/pages.ts";

// Start: a sign-in that just returned brings a one-time code; otherwise the refresh cookie may
// hold a session. Then the page named by the hash: #/, #/discover, #/me, #/users/{id}.

const view = document.getElementById("view")!;
const nav = document.getElementById("nav")!;

async function route(): Promise<void> {
  const path = location.hash.replace(/^#/, "") || "/";
  const user = /^\/users\/(\d+)$/.exec(path);
  try {
    if (path === "/discover") view.replaceChildren(discover());
    else if (path === "/me") view.replaceChildren(await profile(me!.id));
    else if (user) view.replaceChildren(await profile(user[1]!));
    else view.replaceChildren(home());
  } catch (e) {
    view.replaceChildren(h("p", { class: "muted" }, (e as Error).message));
  }
  window.scrollTo(0, 0);
}

async function start(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const code = params.get("code");
  if (code) {
    // The code is spent at once; it leaves the address bar and the history.
    history.replaceState(null, "", `${location.pathname}${location.hash}`);
    await exchange(code).catch((e) => toast(`sign-in failed: ${(e as Error).message}`));
  } else if (params.get("error")) {
    toast(`sign-in failed: ${params.get("error")}`);
  }
  if (!me && !(await refresh())) {
    const { data } = await api.GET("/auth/providers");
    view.replaceChildren(signIn((data?.providers ?? []).map((p) => p.name)));
    return;
  }
  nav.hidden = false;
  window.addEventListener("hashchange", () => void route());
  await route();
}

document.getElementById("sign-out")!.addEventListener("click", async () => {
  await signOut();
  location.assign("/app/");
});

void start();
