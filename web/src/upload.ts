import { api, ok } from "./api.ts";

// Images go straight from the browser to S3: the api hands out a presigned POST (the size and
// type are in its policy), the browser posts the file there, and the api is given only the key,
// which it checks before attaching.

const TYPES = ["image/jpeg", "image/png", "image/webp"] as const;
type ImageType = (typeof TYPES)[number];

export async function uploadImage(file: File, purpose: "avatar" | "post_image"): Promise<string> {
  if (!TYPES.includes(file.type as ImageType)) throw new Error("choose a JPEG, PNG or WebP image");
  const presigned = ok(
    await api.POST("/uploads", {
      body: { purpose, content_type: file.type as ImageType, size: file.size },
    }),
  );
  const form = new FormData();
  for (const [k, v] of Object.entries(presigned.fields)) form.append(k, v);
  form.append("file", file);
  const res = await fetch(presigned.url, { method: "POST", body: form });
  if (!res.ok) throw new Error(`the upload to storage failed (${res.status})`);
  return presigned.key;
}
