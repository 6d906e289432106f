import { describe, expect, test } from "bun:test";

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
  test("scrapes the api and the projector", async () => {
    let up: Awaited<ReturnType<typeof query>> = [];
    for (let i = 0; i < 60 && up.length < 2; i++) {
      up = (await query("up == 1")).filter((r) => ["api", "projector"].includes(r.metric.job!));
      if (up.length < 2) await Bun.sleep(500);
    }
    expect(up.map((r) => r.metric.job).sort()).toEqual(["api", "projector"]);
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
