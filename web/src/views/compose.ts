import { api, idempotency, ok, type Post } from "../api.ts";
import { h, toast } from "../dom.ts";
import { uploadImage } from "../upload.ts";

/** Text, an optional image uploaded straight to storage, and one Idempotency-Key per post. */
export function composer(posted: (post: Post) => void): HTMLElement {
  const text = h("textarea", {
    name: "text",
    maxlength: 500,
    rows: 3,
    placeholder: "What's new?",
    required: true,
  });
  const file = h("input", { type: "file", name: "image", accept: "image/jpeg,image/png,image/webp" });
  const preview = h("img", { class: "preview", alt: "", hidden: true });
  const send = h("button", { type: "submit" }, "Post");
  let key = idempotency();
  file.addEventListener("change", () => {
    const f = file.files?.[0];
    if (preview.src) URL.revokeObjectURL(preview.src);
    preview.hidden = !f;
    if (f) preview.src = URL.createObjectURL(f);
  });
  const form = h(
    "form",
    { class: "compose" },
    text,
    preview,
    h("div", { class: "row" }, h("label", { class: "file" }, "+ Image", file), send),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    send.disabled = true;
    send.textContent = "Posting…";
    try {
      const image = file.files?.[0];
      const upload_key = image ? await uploadImage(image, "post_image") : undefined;
      const post = ok(
        await api.POST("/posts", {
          body: { text: text.value, ...(upload_key ? { upload_key } : {}) },
          params: { header: key },
        }),
      );
      form.reset();
      preview.hidden = true;
      key = idempotency();
      posted(post);
    } catch (err) {
      // The same key on the next try: a post that did get through is answered, not doubled.
      toast((err as Error).message);
    } finally {
      send.disabled = false;
      send.textContent = "Post";
    }
  });
  return form;
}
