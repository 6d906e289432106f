import { describe, expect, test } from "bun:test";
import dashboard from "../observability/grafana/dashboards/feed-overview.json";
import { http, signIn } from "./support.ts";

// The native Prometheus started by ./dev up scrapes the api and the projector and has loaded
// the recording and alert rules of observability/.

const prom = process.env.PROMETHEUS_URL ?? "http://127.0.0.1:9090";

async function query(q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${prom}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await res.json()) as {
    status: string;
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  expect(body.status).toBe("success");
  return body.data.result;
}

describe("Prometheus (native)", () => {
  test("scrapes the api, the projector and the PostgreSQL and Redis exporters", async () => {
    const jobs = ["api", "postgres", "projector", "redis"];
    let up: Awaited<ReturnType<typeof query>> = [];
    for (let i = 0; i < 60 && up.length < jobs.length; i++) {
      up = (await query("up == 1")).filter((r) => jobs.includes(r.metric.job!));
      if (up.length < jobs.length) await Bun.sleep(500);
    }
    expect(up.map((r) => r.metric.job).sort()).toEqual(jobs);
    expect((await query("http_request_duration_seconds_count")).length).toBeGreaterThan(0);
    expect((await query("stream_pending_entries")).length).toBeGreaterThan(0);
  });

  test("has loaded every recording and alert rule", async () => {
    const res = (await (await fetch(`${prom}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string; health: string }[] }[] };
    };
    const rules = res.data.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.name)).toEqual(
      expect.arrayContaining([
        "HighErrorRate",
        "LatencyP99OverBudget",
        "GrowingBacklog",
        "DeadLettersPresent",
        "ProjectorDown",
        "FanoutLagHigh",
        "route:http_latency_seconds:p99",
      ]),
    );
    expect(rules.filter((r) => r.health === "err")).toEqual([]);
  });
});

/** A short, real load: sign-ins, a follow, posts (fan-out), likes, feed reads (cache miss then
 * hits) and a few client errors, spread over `ms` so that every rate() sees several scrapes. */
async function shortLoad(ms: number): Promise<void> {
  const [author, reader] = await Promise.all([
    signIn(`dash_a_${Date.now()}`),
    signIn(`dash_r_${Date.now()}`),
  ]);
  const a = author.access_token;
  const r = reader.access_token;
  expect((await http("POST", "/follows", r, { user_id: author.user.id })).status).toBe(201);
  const end = Date.now() + ms;
  for (let i = 0; Date.now() < end; i++) {
    const post = await http(
      "POST",
      "/posts",
      a,
      { text: `dashboard load ${i}` },
      { "idempotency-key": crypto.randomUUID() },
    );
    expect(post.status).toBe(201);
    expect((await http("POST", "/likes", r, { post_id: post.body.id })).status).toBe(201);
    for (let j = 0; j < 5; j++) expect((await http("GET", "/feed?limit=20", r)).status).toBe(200);
    expect((await http("GET", "/posts/1", r)).status).toBe(404);
    await Bun.sleep(200);
  }
}

describe("Grafana dashboard (observability/grafana/dashboards)", () => {
  const targets = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: t.expr })));

  test(
    "every panel's query is valid and returns data after a short load",
    async () => {
      expect(targets.length).toBeGreaterThanOrEqual(20);
      await shortLoad(12_000);
      // Recording rules and 1m/5m rates need a few scrapes (5 s apart) after the load.
      const empty = new Map(targets.map((t) => [t.expr, t.panel]));
      for (let i = 0; i < 40 && empty.size > 0; i++) {
        for (const expr of [...empty.keys()]) {
          // query() fails the test on an invalid expression (status "error").
          if ((await query(expr)).length > 0) empty.delete(expr);
        }
        if (empty.size > 0) await Bun.sleep(1000);
      }
      expect([...empty].map(([expr, panel]) => `${panel}: ${expr}`)).toEqual([]);
    },
    { timeout: 90_000 },
  );
});
