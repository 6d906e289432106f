// The bench's load generators (perf/README.md, "Benchmark"): closed loops through autocannon,
// the paced open loop, and the seeded users it acts as. Every response's status and time is
// recorded here, since autocannon's histogram keeps 2xx only.
import autocannon from "autocannon";
import { ID_EPOCH_MS, timestampOf } from "../../core/ids.ts";
import { signAccessToken } from "../../core/tokens.ts";
import { dueCount, type RatePoint, type Throughput } from "../bench-report.ts";
import { summarize } from "../lib/stats.ts";
import { isActive, type SeedParams } from "../seed/model.ts";
import { type Bench, BenchError, elapsedS, log, MAX_IN_FLIGHT } from "./settings.ts";

export interface Actor {
  id: string;
  token: string;
}

export async function actors(b: Bench, ids: readonly string[]): Promise<Actor[]> {
  return Promise.all(ids.map(async (id) => ({ id, token: (await signAccessToken(b.config, id)).token })));
}

/** Active seeded users (their feeds are materialized), walking up from `from`, skipping `taken`. */
export function activeUsers(p: SeedParams, from: number, count: number, taken: Set<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < p.users && out.length < count; i++) {
    const u = (from + i) % p.users;
    if (!taken.has(u) && isActive(p, u)) {
      out.push(u);
      taken.add(u);
    }
  }
  return out;
}

/** Seeded user index of an id (the seeder puts user i at millisecond i + 1 after the id epoch). */
export const indexOf = (id: string) => timestampOf(id) - ID_EPOCH_MS - 1;

export const auth = (a: Actor) => ({ authorization: `Bearer ${a.token}` });

/** A closed loop through autocannon; every response's status and time recorded here. */
export async function closedLoop(
  b: Bench,
  name: string,
  o: {
    url?: string;
    seconds: number;
    amount?: number;
    connections?: number;
    overallRate?: number;
    build?: (n: number, req: autocannon.Request) => autocannon.Request;
  },
): Promise<Throughput & { latenciesMs: number[] }> {
  const latenciesMs: number[] = [];
  const statuses: Record<string, number> = {};
  let sent = 0;
  const t0 = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: o.url ?? b.s.baseUrl,
        connections: o.connections ?? b.s.connections,
        // autocannon ignores duration when amount is set: the timer below bounds that case.
        ...(o.amount ? { amount: o.amount } : { duration: o.seconds }),
        ...(o.overallRate ? { overallRate: o.overallRate } : {}),
        timeout: 10,
        ...(o.build
          ? { requests: [{ setupRequest: (req: autocannon.Request) => o.build!(sent++, req) }] }
          : {}),
      },
      (err, r) => (err ? reject(err) : resolve(r)),
    );
    instance.on("response", (_client, status: number, _bytes: number, ms: number) => {
      latenciesMs.push(ms);
      statuses[status] = (statuses[status] ?? 0) + 1;
    });
    if (o.amount) {
      const timer = setTimeout(() => instance.stop(), (o.seconds + 1) * 1000);
      instance.on("done", () => clearTimeout(timer));
    }
  });
  const seconds = elapsedS(t0);
  if (result.timeouts) statuses.timeout = result.timeouts;
  if (result.errors - result.timeouts > 0) statuses.error = result.errors - result.timeouts;
  const requests = latenciesMs.length;
  const out = {
    name,
    requests,
    seconds,
    rps: requests / seconds,
    latency: summarize(latenciesMs),
    statuses,
    latenciesMs,
  };
  log(
    `${name}: ${out.rps.toFixed(0)} req/s, p50 ${out.latency.p50} ms, p99 ${out.latency.p99} ms, ${JSON.stringify(statuses)}`,
  );
  return out;
}

/**
 * An open-loop run at `rate` per second: request i is sent at start + i/rate, whatever became of
 * the ones before, and timed from that moment (so a request the client could not send on time
 * counts its wait). autocannon's overallRate instead sends each connection's share of a second
 * back to back as the second starts, which measures a burst. At most MAX_IN_FLIGHT wait at once;
 * past that a request is dropped and counted: the service has fallen behind.
 */
export async function paced(
  b: Bench,
  rate: number,
  seconds: number,
  make: (i: number) => { path: string; init?: RequestInit },
  stop: () => boolean = () => false,
): Promise<RatePoint & { latenciesMs: number[] }> {
  const total = Math.max(1, Math.round(rate * seconds));
  const latenciesMs: number[] = [];
  const statuses: Record<string, number> = {};
  const pending = new Set<Promise<void>>();
  let sent = 0;
  let dropped = 0;
  const t0 = performance.now();
  while (sent < total && !stop()) {
    const due = dueCount(performance.now() - t0, rate, total);
    while (sent < due) {
      const dueAt = t0 + (sent * 1000) / rate;
      if (pending.size >= MAX_IN_FLIGHT) {
        dropped++;
        sent++;
        continue;
      }
      const { path, init } = make(sent);
      const p: Promise<void> = fetch(`${b.s.baseUrl}${path}`, {
        ...init,
        signal: AbortSignal.timeout(10_000),
      })
        .then(
          async (res) => {
            await res.arrayBuffer();
            latenciesMs.push(performance.now() - dueAt);
            statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          },
          (e: Error) => {
            const k = e.name === "TimeoutError" ? "timeout" : "error";
            statuses[k] = (statuses[k] ?? 0) + 1;
          },
        )
        .finally(() => pending.delete(p));
      pending.add(p);
      sent++;
    }
    await Bun.sleep(Math.max(0, Math.min(t0 + (sent * 1000) / rate - performance.now(), 10)));
  }
  const window = elapsedS(t0);
  await Promise.all(pending);
  return {
    share: 0,
    offered: rate,
    achieved: latenciesMs.length / Math.max(window, 1e-9),
    dropped,
    latency: summarize(latenciesMs),
    statuses,
    latenciesMs,
  };
}

export async function readFeed(b: Bench, a: Actor): Promise<{ status: number; ids: string[] }> {
  const res = await fetch(`${b.s.baseUrl}/feed?limit=20`, {
    headers: auth(a),
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status !== 200) return { status: res.status, ids: [] };
  const body = (await res.json()) as { items: { id: string }[] };
  return { status: 200, ids: body.items.map((i) => i.id) };
}

export async function createPost(b: Bench, a: Actor, text: string): Promise<string> {
  const res = await fetch(`${b.s.baseUrl}/posts`, {
    method: "POST",
    headers: { ...auth(a), "content-type": "application/json", "idempotency-key": crypto.randomUUID() },
    body: JSON.stringify({ text }),
  });
  if (res.status !== 201) throw new BenchError(`POST /posts answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}
