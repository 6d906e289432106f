import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { base, config } from "./support.ts";

// What `./dev up` exposes: a development stack (published secrets, the mock identity provider,
// the load-test signer) listens on loopback only, and the api's metrics only on their own port.

/** Local addresses listening on `port` (IPv4 and IPv6), from the kernel's socket tables. */
function listeners(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const out: string[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!existsSync(table)) continue;
    // readFileSync: Bun.file reads /proc files as empty (their size is 0).
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      // 0A: LISTEN.
      if (state === "0A" && local?.endsWith(`:${hexPort}`)) out.push(local.split(":")[0]!);
    }
  }
  return out;
}

/** 127.x.x.x as /proc writes it (little-endian hex), or ::1 in IPv6's table. */
const isLoopback = (hex: string) =>
  (hex.length === 8 && hex.endsWith("7F")) || hex === "00000000000000000000000001000000";

describe("what ./dev up exposes", () => {
  test("the api and its metrics listen on loopback only", async () => {
    for (const port of [config.PORT, config.METRICS_PORT]) {
      const addresses = listeners(port);
      expect([port, addresses.length > 0]).toEqual([port, true]);
      expect([port, addresses.filter((a) => !isLoopback(a))]).toEqual([port, []]);
    }
  });

  test("/metrics is served on METRICS_PORT, not on the API's port", async () => {
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
    const scrape = await fetch(`http://127.0.0.1:${config.METRICS_PORT}/metrics`);
    expect(scrape.status).toBe(200);
    expect(await scrape.text()).toContain("http_request_duration_seconds");
  });
});
