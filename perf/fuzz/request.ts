// A generated request as plain data, so that fast-check can shrink it and a failure can be
// printed and replayed; toRequest turns it into the fetch Request the app handles.

export interface FilePart {
  name: string;
  filename: string;
  type: string;
  /** base64 of the file's bytes. */
  bytes: string;
}
export type FormPart = { name: string; value: string } | FilePart;

export type FuzzBody =
  | { kind: "text"; text: string }
  | { kind: "bytes"; base64: string }
  | { kind: "form"; parts: FormPart[] };

export interface FuzzRequest {
  /** The operation this request was generated for ("METHOD /template"), or "unrouted". */
  op: string;
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: [string, string][];
  body: FuzzBody | null;
  /** Sent this many times at once (races: the same like twice, an Idempotency-Key in flight). */
  copies: number;
  /** What was done to it: "auth:expired", "body:missing-required", "bola:other-users-post"… */
  tags: string[];
}

const isFile = (p: FormPart): p is FilePart => "filename" in p;

function bodyOf(b: FuzzBody | null): RequestInit["body"] | undefined {
  if (!b) return undefined;
  if (b.kind === "text") return b.text;
  if (b.kind === "bytes") return Buffer.from(b.base64, "base64");
  const form = new FormData();
  for (const p of b.parts) {
    if (isFile(p))
      form.append(p.name, new File([Buffer.from(p.bytes, "base64")], p.filename, { type: p.type }));
    else form.append(p.name, p.value);
  }
  return form;
}

/**
 * Headers the generator wrote win; otherwise a JSON or byte body gets its Content-Length as any
 * HTTP client would send it (the api refuses oversized bodies by it), and a form gets the
 * multipart type with its boundary from Request itself.
 */
export function toRequest(r: FuzzRequest, origin = "http://localhost"): Request {
  const headers = new Headers();
  for (const [k, v] of r.headers) headers.append(k, v);
  const body = bodyOf(r.body);
  if (body !== undefined && r.body?.kind !== "form" && !headers.has("content-length")) {
    const length = typeof body === "string" ? Buffer.byteLength(body) : (body as Buffer).byteLength;
    if (!r.tags.includes("length:omitted")) headers.set("content-length", String(length));
  }
  return new Request(`${origin}${r.url}`, { method: r.method, headers, body });
}

const clip = (s: string, n = 160) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

/** A readable, bounded rendering of a request, for failure reports. */
export function describeRequest(r: FuzzRequest): string {
  const lines = [`${r.method} ${clip(r.url, 300)}   [${r.op}]`];
  for (const [k, v] of r.headers) lines.push(`${k}: ${clip(v)}`);
  if (r.body?.kind === "text") lines.push("", clip(JSON.stringify(r.body.text), 400));
  else if (r.body?.kind === "bytes") lines.push("", `<bytes, base64> ${clip(r.body.base64, 400)}`);
  else if (r.body?.kind === "form")
    for (const p of r.body.parts)
      lines.push(
        isFile(p)
          ? `  part ${JSON.stringify(p.name)}: file ${JSON.stringify(p.filename)} (${p.type}), ${Buffer.from(p.bytes, "base64").length} bytes`
          : `  part ${JSON.stringify(p.name)}: ${clip(JSON.stringify(p.value))}`,
      );
  if (r.copies > 1) lines.push(`(sent ${r.copies} times at once)`);
  lines.push(`tags: ${r.tags.join(", ") || "-"}`);
  return lines.join("\n");
}
