import { createHash } from "node:crypto";

// Idempotency fingerprints: the same request body, whatever its key order or whitespace, has
// the same fingerprint; any change to a value changes it.

function canonical(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
}

export function fingerprint(method: string, route: string, body: unknown): string {
  return createHash("sha256")
    .update(`${method} ${route}\n${canonical(body)}`)
    .digest("hex");
}
