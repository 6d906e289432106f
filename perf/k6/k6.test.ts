import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import type { BunPlugin } from "bun";

// There is no k6 binary on this machine, so the scripts are checked here as far as that allows:
// each bundles with the k6 modules left external (syntax, imports), and each is then loaded with
// the k6 modules replaced by a small stand-in runtime (below) to read its options and to drive
// its setup, requests, teardown and summary. What stays unproven is k6 itself running them.

const SCRIPTS = ["feed", "posts", "likes", "mixed"] as const;
const dir = `${import.meta.dir}`;

interface Call {
  method: string;
  url: string;
  body: string | null;
  params: { headers?: Record<string, string>; tags?: Record<string, string> } | undefined;
}
interface Stub {
  calls: Call[];
  metrics: Record<string, number[]>;
  slept: number[];
  scenario: { name: string; iterationInTest: number };
  respond: (c: Call) => { status: number; body: unknown };
}
declare global {
  var __ENV: Record<string, string>;
  var __k6: Stub;
}

/** The k6 modules the scripts import, as far as they use them. */
const K6_STUBS: Record<string, string> = {
  k6: `export const check = (r, checks) => { for (const f of Object.values(checks)) f(r); return true; };
       export const sleep = (s) => { globalThis.__k6.slept.push(s); };`,
  "k6/execution": `export default {
         test: { abort(msg) { throw new Error("test aborted: " + msg); } },
         get scenario() { return globalThis.__k6.scenario; },
       };`,
  "k6/http": `const call = (method, url, body, params) => {
         const c = { method, url, body: body ?? null, params };
         globalThis.__k6.calls.push(c);
         const r = globalThis.__k6.respond(c);
         const text = typeof r.body === "string" ? r.body : JSON.stringify(r.body);
         return { status: r.status, body: text, json: () => JSON.parse(text) };
       };
       export default {
         get: (url, params) => call("GET", url, null, params),
         post: (url, body, params) => call("POST", url, body, params),
         batch: (reqs) => reqs.map((r) => call(r.method, r.url, r.body ?? null, r.params)),
       };`,
  "k6/metrics": `class Metric {
         constructor(name) { this.name = name; globalThis.__k6.metrics[name] = []; }
         add(v) { globalThis.__k6.metrics[this.name].push(v); }
       }
       export class Counter extends Metric {}
       export class Gauge extends Metric {}
       export class Trend extends Metric {}
       export class Rate extends Metric {}`,
};

const k6StandIn: BunPlugin = {
  name: "k6 stand-in",
  setup(build) {
    build.onResolve({ filter: /^k6(\/.*)?$/ }, (args) => ({ path: args.path, namespace: "k6" }));
    build.onLoad({ filter: /.*/, namespace: "k6" }, (args) => ({
      contents: K6_STUBS[args.path]!,
      loader: "js",
    }));
  },
};

let out: string;
beforeAll(async () => {
  out = await mkdtemp(`${tmpdir()}/k6-scripts-`);
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

/** A clean slate for the stand-in; the metrics a script made at load stay known, emptied. */
function freshStub(respond: Stub["respond"] = () => ({ status: 500, body: "unexpected" })): Stub {
  const metrics: Record<string, number[]> = {};
  for (const name of Object.keys(globalThis.__k6?.metrics ?? {})) metrics[name] = [];
  globalThis.__k6 = {
    calls: [],
    metrics,
    slept: [],
    scenario: { name: "s", iterationInTest: 0 },
    respond,
  };
  return globalThis.__k6;
}

let loads = 0;
/** The script bundled with the stand-in, imported fresh under the given environment. */
// biome-ignore lint/suspicious/noExplicitAny: a k6 script's exports are untyped JavaScript
async function load(script: string, env: Record<string, string> = {}): Promise<any> {
  const built = await Bun.build({
    entrypoints: [`${dir}/${script}.js`],
    plugins: [k6StandIn],
    target: "bun",
  });
  if (!built.success) throw new Error(built.logs.join("\n"));
  const file = `${out}/${script}-${++loads}.js`;
  await Bun.write(file, await built.outputs[0]!.text());
  globalThis.__ENV = { LOAD_SCRAPE_WAIT_S: "1", ...env };
  globalThis.__k6 = undefined as unknown as Stub;
  freshStub();
  return import(file);
}

describe("each script", () => {
  for (const script of SCRIPTS) {
    test(`${script}.js bundles with only k6 modules left to import`, async () => {
      const built = await Bun.build({ entrypoints: [`${dir}/${script}.js`], external: ["k6", "k6/*"] });
      expect(built.logs).toEqual([]);
      expect(built.success).toBe(true);
      const code = await built.outputs[0]!.text();
      const imports = [...code.matchAll(/^import .* from "([^"]+)";?$/gm)].map((m) => m[1]).sort();
      expect(imports).toEqual(["k6", "k6/execution", "k6/http", "k6/metrics"]);
    });

    test(`${script}.js: open-model scenarios from K6_RATE and K6_DURATION, with the three thresholds`, async () => {
      const m = await load(script, { K6_RATE: "120", K6_DURATION: "45s" });
      const scenarios = Object.entries<Record<string, unknown>>(m.options.scenarios);
      expect(scenarios.length).toBeGreaterThan(0);
      for (const [, s] of scenarios) {
        expect(s.executor).toBe("constant-arrival-rate");
        expect(s.duration).toBe("45s");
        expect(s.preAllocatedVUs).toBeGreaterThan(0);
        expect(s.maxVUs as number).toBeGreaterThanOrEqual(s.preAllocatedVUs as number);
        // The function a scenario runs is exported by the script itself, as k6 requires.
        expect(typeof m[s.exec as string]).toBe("function");
      }
      const perSecond = scenarios.reduce(
        (n, [, s]) => n + (s.rate as number) / Number.parseInt(s.timeUnit as string, 10),
        0,
      );
      expect(perSecond).toBeCloseTo(120, 6);
      const expr = (t: string | { threshold: string }) => (typeof t === "string" ? t : t.threshold);
      expect(m.options.thresholds.http_req_duration.map(expr)).toEqual(["p(95)<250", "p(99)<500"]);
      expect(m.options.thresholds.http_req_failed.map(expr)).toEqual(["rate<0.01"]);
      expect(m.options.thresholds.dropped_iterations.map(expr)).toEqual(["count<1"]);
      expect(m.options.thresholds.http_req_failed[0].abortOnFail).toBe(true);
      expect(m.options.thresholds.dropped_iterations[0].abortOnFail).toBe(true);
      expect(m.options.summaryTrendStats).toEqual(expect.arrayContaining(["med", "p(95)", "p(99)"]));
      for (const f of ["setup", "teardown", "handleSummary", "default"]) expect(typeof m[f]).toBe("function");
    });
  }

  test("mixed.js is 50 reads to 1 write", async () => {
    const m = await load("mixed", { K6_RATE: "200" });
    const { reads, writes } = m.options.scenarios;
    expect([reads.rate, reads.timeUnit, reads.exec]).toEqual([10_000, "51s", "readFeed"]);
    expect([writes.rate, writes.timeUnit, writes.exec]).toEqual([200, "51s", "writeOne"]);
  });

  test("bad settings stop the script at load, naming the variable; defaults otherwise", async () => {
    await expect(load("feed", { K6_RATE: "fast" })).rejects.toThrow(
      'K6_RATE must be a positive integer, got "fast"',
    );
    await expect(load("feed", { K6_DURATION: "a minute" })).rejects.toThrow("K6_DURATION must look like 60s");
    const m = await load("feed");
    expect(m.options.scenarios.feed).toMatchObject({ rate: 200, duration: "60s", timeUnit: "1s" });
    const lib = await load("lib");
    expect(lib.durationSeconds("1m30s")).toBe(90);
    expect(lib.durationSeconds("500ms")).toBe(0.5);
  });

  test("a run whose scenarios k6 replaced stops, saying why", async () => {
    const m = await load("feed");
    expect(() => m.default()).toThrow("pass K6_DURATION and K6_RATE with -e");
  });
});

const tokenPage = (body: string | null, offset = 0) => {
  const { count, offset: from = 0 } = JSON.parse(body!);
  const n = Math.max(0, Math.min(count, 1300 - from - offset));
  return {
    tokens: Array.from({ length: n }, (_, i) => ({
      user_id: String(1000 + from + i),
      token: `t${from + i}`,
    })),
    expires_in: 900,
  };
};
const prom = (result: { metric: Record<string, string>; value: [number, string] }[]) => ({
  status: 200,
  body: { status: "success", data: { resultType: "vector", result } },
});

describe("setup, requests, teardown and summary (with the stand-in runtime)", () => {
  test("setup pages through the signer, collects posts and snapshots Prometheus; teardown measures the run", async () => {
    const m = await load("likes", {
      LOAD_TEST_SECRET: "s".repeat(32),
      LOAD_USERS: "1500",
      BASE_URL: "http://gw:3000/",
      PROMETHEUS_URL: "http://prom:9090",
    });
    // The feed cache's hit counter as Prometheus reads it before and after the run.
    const hitCounter = [150, 200];
    const stub = freshStub((c) => {
      if (c.url === "http://gw:3000/loadtest/tokens") {
        expect(c.params?.headers?.["x-load-test-secret"]).toBe("s".repeat(32));
        return { status: 200, body: tokenPage(c.body) };
      }
      if (c.url.startsWith("http://gw:3000/users/"))
        return { status: 200, body: { items: [{ id: `9${c.url.split("/")[4]}` }], next_cursor: null } };
      if (c.url.startsWith("http://prom:9090/api/v1/query?query=sum%20by"))
        return prom([
          { metric: { result: "hit" }, value: [0, String(hitCounter.shift())] },
          { metric: { result: "miss" }, value: [0, "7"] },
        ]);
      if (c.url.startsWith("http://prom:9090/api/v1/query")) return prom([{ metric: {}, value: [0, "3"] }]);
      if (c.url === "http://gw:3000/likes") return { status: 201, body: { liked: true } };
      throw new Error(`unexpected ${c.method} ${c.url}`);
    });

    const data = m.setup();
    // 1000, then the 300 that are left: fewer than asked, so it stops.
    const asks = stub.calls.filter((c) => c.url.endsWith("/loadtest/tokens")).map((c) => JSON.parse(c.body!));
    expect(asks).toEqual([
      { count: 1000, offset: 0 },
      { count: 500, offset: 1000 },
    ]);
    expect(data.tokens).toHaveLength(1300);
    // One post from each of the first 100 users, read in batches; 100 ≥ 20, so none written.
    expect(data.postIds).toHaveLength(100);
    expect(stub.calls.filter((c) => c.method === "POST" && c.url.endsWith("/posts"))).toEqual([]);
    expect(data.before).toEqual({ backlog: 3, hit: 150, miss: 7 });
    expect(stub.metrics.load_backlog_before).toEqual([3]);

    m.likePost(data);
    const like = stub.calls.at(-1)!;
    expect(like.params?.headers?.authorization).toMatch(/^Bearer t\d+$/);
    expect(data.postIds).toContain(JSON.parse(like.body!).post_id);
    expect(stub.metrics.load_status_2xx).toEqual([1]);

    m.teardown(data);
    expect(stub.slept).toEqual([1]);
    expect(stub.metrics.load_backlog_after).toEqual([3]);
    expect(stub.metrics.load_cache_hits).toEqual([50]);
    expect(stub.metrics.load_cache_misses).toEqual([0]);
  });

  test("setup stops the run with a reason when the signer is missing, refuses, or has no users", async () => {
    const m = await load("feed", { LOAD_TEST_SECRET: "s".repeat(32) });
    for (const [status, body, why] of [
      [404, {}, "has no load-test signer"],
      [401, {}, "refused LOAD_TEST_SECRET"],
      [200, { tokens: [], expires_in: 900 }, "no seeded users"],
    ] as const) {
      freshStub(() => ({ status, body }));
      expect(() => m.setup()).toThrow(why);
    }
    globalThis.__ENV.LOAD_TEST_SECRET = "";
    expect(() => m.setup()).toThrow("LOAD_TEST_SECRET is not set");
  });

  test("writes: fresh Idempotency-Keys, and mixed alternates post and like", async () => {
    const m = await load("mixed", { LOAD_TEST_SECRET: "s".repeat(32) });
    const stub = freshStub((c) => ({ status: c.url.endsWith("/posts") ? 201 : 200, body: {} }));
    const data = { tokens: ["a", "b"], postIds: ["11", "12"], runId: "run1", before: {} };
    for (let i = 0; i < 4; i++) {
      stub.scenario = { name: "writes", iterationInTest: i };
      m.writeOne(data);
    }
    expect(stub.calls.map((c) => c.url.replace(/^http:\/\/127.0.0.1:3000/, ""))).toEqual([
      "/posts",
      "/likes",
      "/posts",
      "/likes",
    ]);
    const keys = stub.calls
      .filter((c) => c.url.endsWith("/posts"))
      .map((c) => c.params?.headers?.["idempotency-key"]);
    expect(keys).toEqual(["k6-run1-writes-0", "k6-run1-writes-2"]);
    m.readFeed(data);
    expect(stub.calls.at(-1)!.url).toBe("http://127.0.0.1:3000/feed?limit=20");
  });

  test("the summary reports percentiles, rate, errors, backlog, cache and each threshold", async () => {
    const m = await load("feed", { K6_RATE: "100", K6_DURATION: "10s" });
    const data = {
      metrics: {
        iterations: { values: { count: 990 } },
        http_reqs: { values: { count: 995 } },
        http_req_duration: {
          values: { med: 12.345, "p(95)": 40.5, "p(99)": 88.1, max: 120 },
          thresholds: { "p(95)<250": { ok: true }, "p(99)<500": { ok: true } },
        },
        http_req_failed: { values: { rate: 0.002 }, thresholds: { "rate<0.01": { ok: true } } },
        dropped_iterations: { values: { count: 3 }, thresholds: { "count<1": { ok: false } } },
        load_status_2xx: { values: { count: 988 } },
        load_status_5xx: { values: { count: 2 } },
        load_backlog_before: { values: { value: 0 } },
        load_backlog_after: { values: { value: 4 } },
        load_cache_hits: { values: { value: 900 } },
        load_cache_misses: { values: { value: 100 } },
      },
    };
    const text: string = m.handleSummary(data).stdout;
    for (const want of [
      "990 in the scenarios (995 with setup and teardown); 2xx: 988, 5xx: 2",
      "99 of 100 req/s offered (99%), 3 iterations dropped",
      "p50 12.35 ms · p95 40.5 ms · p99 88.1 ms · max 120 ms",
      "0.2% of requests failed",
      "0 → 4 entries",
      "900 hits, 100 misses during the run, hit ratio 90%",
      "ok     http_req_duration p(99)<500",
      "FAILED dropped_iterations count<1",
    ])
      expect(text).toContain(want);
    // Without Prometheus the figures say n/a rather than 0.
    const bare = (await load("lib")).summaryText(
      { metrics: { iterations: { values: { count: 0 } } } },
      100,
      10,
    );
    expect(bare).toContain("n/a hits, n/a misses during the run, hit ratio n/a");
    expect(m.handleSummary(data)).not.toHaveProperty("undefined");
  });

  test("Prometheus answers are read by label", async () => {
    const m = await load("lib");
    expect(
      m.promValues(JSON.stringify(prom([{ metric: { result: "hit" }, value: [0, "5"] }]).body), "result"),
    ).toEqual({
      hit: 5,
    });
    expect(m.promValues({ status: "error" })).toBeNull();
  });
});

test("compose's load-generator runs these scripts the way they expect", async () => {
  // biome-ignore lint/suspicious/noExplicitAny: parsed YAML
  const compose: any = Bun.YAML.parse(await Bun.file(`${dir}/../../compose.yml`).text());
  const lg = compose.services["load-generator"];
  const args: string[] = lg.command;
  // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's interpolation, not a template
  expect(args.at(-1)).toBe("/perf/k6/${K6_SCENARIO:-mixed}.js");
  expect(lg.volumes).toContain("./perf:/perf:ro");
  for (const script of SCRIPTS) expect(await Bun.file(`${dir}/${script}.js`).exists()).toBe(true);
  // Script variables through -e; in k6's own environment K6_DURATION would replace the scenarios.
  const passed = args.flatMap((a, i) => (args[i - 1] === "-e" ? [a.split("=")[0]] : []));
  expect(passed).toEqual(["K6_RATE", "K6_DURATION"]);
  expect(Object.keys(lg.environment).filter((k) => k.startsWith("K6_"))).toEqual([]);
  expect(lg.environment).toMatchObject({
    BASE_URL: "http://gateway:3000",
    PROMETHEUS_URL: "http://prometheus:9090",
  });
  expect(lg.environment.LOAD_TEST_SECRET).toBe(compose["x-app-env"].LOAD_TEST_SECRET);
});
