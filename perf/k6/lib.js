// Shared by the k6 scripts (feed.js, posts.js, likes.js, mixed.js): configuration from the
// environment, the open-model scenarios and thresholds, setup (tokens from the api's load-test
// signer, posts to like, a metrics snapshot), the requests, and the end-of-test summary.
//
// Run by `task test:load` (compose's load-generator), or by hand against any stack:
//   k6 run -e K6_RATE=100 -e K6_DURATION=30s -e LOAD_TEST_SECRET=… perf/k6/mixed.js
// Pass K6_RATE and K6_DURATION with -e, never as environment variables of the k6 process:
// k6 itself reads K6_DURATION from its environment as the `duration` option, which replaces
// every scenario of the script with one constant-VUs scenario (the default() below then stops
// the run, saying so).
import { check, sleep } from "k6";
import exec from "k6/execution";
import http from "k6/http";
import { Counter, Gauge } from "k6/metrics";

const env = (name, fallback) => (__ENV[name] === undefined || __ENV[name] === "" ? fallback : __ENV[name]);

function positiveInt(name, fallback) {
  const raw = env(name, String(fallback));
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

export const BASE_URL = env("BASE_URL", "http://127.0.0.1:3000").replace(/\/$/, "");
// Backlog and cache counters come from Prometheus, which sums every api replica (the gateway's
// /metrics would show whichever replica answered).
export const PROMETHEUS_URL = env("PROMETHEUS_URL", "http://127.0.0.1:9090").replace(/\/$/, "");
export const RATE = positiveInt("K6_RATE", 200);
export const DURATION = env("K6_DURATION", "60s");
export const USERS = positiveInt("LOAD_USERS", 200);
const P95_MS = positiveInt("LOAD_P95_MS", 250);
const P99_MS = positiveInt("LOAD_P99_MS", 500);
// Prometheus scrapes every 5 s: the after-snapshot waits for one more scrape.
const SCRAPE_WAIT_S = positiveInt("LOAD_SCRAPE_WAIT_S", 6);

/** Seconds in a k6 duration string ("90s", "1m30s", "500ms", "2h"). */
export function durationSeconds(text) {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = "";
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    total += Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2]];
    consumed += m[0];
  }
  if (consumed === "" || consumed !== text)
    throw new Error(`K6_DURATION must look like 60s or 1m30s, got "${text}"`);
  return total;
}
const DURATION_S = durationSeconds(DURATION);

/**
 * An open-model scenario: `rate` iterations (one request each) per `timeUnit`, started on time
 * whatever the latency. When every VU is busy, k6 drops iterations instead of slowing down, and
 * the dropped_iterations threshold fails the run.
 */
export function arrivalScenario(execName, opts = {}) {
  const rate = opts.rate || RATE;
  const timeUnit = opts.timeUnit || "1s";
  const perSecond = rate / durationSeconds(timeUnit);
  return {
    executor: "constant-arrival-rate",
    exec: execName,
    rate,
    timeUnit,
    duration: DURATION,
    // VUs needed = arrivals/s × seconds per request: ready for 100 ms, room for 1 s.
    preAllocatedVUs: Math.max(2, Math.ceil(perSecond * 0.1)),
    maxVUs: Math.max(10, Math.ceil(perSecond)),
  };
}

export const THRESHOLDS = {
  http_req_duration: [`p(95)<${P95_MS}`, `p(99)<${P99_MS}`],
  // Errors and a generator that cannot keep the rate make the rest meaningless: stop early.
  http_req_failed: [{ threshold: "rate<0.01", abortOnFail: true, delayAbortEval: "10s" }],
  dropped_iterations: [{ threshold: "count<1", abortOnFail: true, delayAbortEval: "5s" }],
};

export function optionsFor(scenarios) {
  return {
    scenarios,
    thresholds: THRESHOLDS,
    summaryTrendStats: ["avg", "min", "med", "max", "p(95)", "p(99)"],
    setupTimeout: "120s",
    teardownTimeout: `${SCRAPE_WAIT_S + 60}s`,
  };
}

// Custom metrics are made in the init context; the gauges are set by setup and teardown, whose
// samples k6 aggregates into the summary like any other.
const backlogBefore = new Gauge("load_backlog_before");
const backlogAfter = new Gauge("load_backlog_after");
const cacheHits = new Gauge("load_cache_hits");
const cacheMisses = new Gauge("load_cache_misses");
const statusClass = {
  "2xx": new Counter("load_status_2xx"),
  "3xx": new Counter("load_status_3xx"),
  "4xx": new Counter("load_status_4xx"),
  "5xx": new Counter("load_status_5xx"),
  none: new Counter("load_status_none"),
};

function countStatus(res) {
  const c = res.status === 0 ? "none" : `${Math.floor(res.status / 100)}xx`;
  if (statusClass[c]) statusClass[c].add(1);
}

// ---------------------------------------------------------------- Prometheus

/** label value → number, from a Prometheus instant-query response body. */
export function promValues(body, label) {
  const out = {};
  const parsed = typeof body === "string" ? JSON.parse(body) : body;
  if (parsed?.status !== "success") return null;
  for (const r of parsed.data.result) out[label ? r.metric[label] || "" : ""] = Number(r.value[1]);
  return out;
}

function promQuery(query, label) {
  const res = http.get(`${PROMETHEUS_URL}/api/v1/query?query=${encodeURIComponent(query)}`, {
    tags: { name: "prometheus" },
  });
  return res.status === 200 ? promValues(res.body, label) : null;
}

/** Backlog (stream lag + pending, every group) and feed cache counters (every replica), or nulls. */
export function snapshot() {
  const backlog = promQuery("sum(stream_lag_entries) + sum(stream_pending_entries)");
  const cache = promQuery("sum by (result) (feed_cache_requests_total)", "result");
  return {
    backlog: backlog && backlog[""] !== undefined ? backlog[""] : null,
    hit: cache ? cache.hit || 0 : null,
    miss: cache ? cache.miss || 0 : null,
  };
}

// ---------------------------------------------------------------- setup and teardown

function fetchTokens(secret) {
  const tokens = [];
  while (tokens.length < USERS) {
    const count = Math.min(1000, USERS - tokens.length);
    const res = http.post(`${BASE_URL}/loadtest/tokens`, JSON.stringify({ count, offset: tokens.length }), {
      headers: { "content-type": "application/json", "x-load-test-secret": secret },
      tags: { name: "POST /loadtest/tokens" },
    });
    if (res.status === 404)
      exec.test.abort(`${BASE_URL} has no load-test signer: start the api with LOAD_TEST_SECRET set`);
    if (res.status === 401) exec.test.abort("the api refused LOAD_TEST_SECRET: it differs from the api's");
    if (res.status !== 200) exec.test.abort(`POST /loadtest/tokens answered ${res.status}: ${res.body}`);
    const page = res.json().tokens;
    for (const t of page) tokens.push(t);
    if (page.length < count) break;
  }
  if (tokens.length === 0)
    exec.test.abort("there are no seeded users (handles s_0, s_1, …): run the seeder first");
  return tokens;
}

const authHeaders = (token, extra) => Object.assign({ authorization: `Bearer ${token}` }, extra || {});

/** Posts to like: the newest of the first users' posts; with fewer than `want`, some are written. */
function collectPostIds(tokens, want) {
  const ids = [];
  const seen = {};
  for (let i = 0; i < Math.min(tokens.length, 100); i += 20) {
    const batch = tokens.slice(i, i + 20).map((t) => ({
      method: "GET",
      url: `${BASE_URL}/users/${t.user_id}/posts?limit=20`,
      params: { headers: authHeaders(t.token), tags: { name: "GET /users/:id/posts" } },
    }));
    for (const res of http.batch(batch)) {
      if (res.status !== 200) continue;
      for (const p of res.json().items) {
        if (!seen[p.id]) ids.push(p.id);
        seen[p.id] = true;
      }
    }
  }
  for (let i = 0; ids.length < want && i < want * 2; i++) {
    const t = tokens[i % tokens.length];
    const res = http.post(`${BASE_URL}/posts`, JSON.stringify({ text: `k6 setup post ${i}` }), {
      headers: authHeaders(t.token, {
        "content-type": "application/json",
        "idempotency-key": `k6-setup-${Date.now()}-${i}`,
      }),
      tags: { name: "POST /posts" },
    });
    if (res.status === 201) ids.push(res.json().id);
  }
  return ids;
}

/** Runs once before the scenarios; what it returns is every iteration's `data`. */
export function setupRun(opts = {}) {
  const secret = env("LOAD_TEST_SECRET", "");
  if (!secret) exec.test.abort("LOAD_TEST_SECRET is not set (the api's load-test signer needs it)");
  const tokens = fetchTokens(secret);
  const postIds = opts.needPosts ? collectPostIds(tokens, 20) : [];
  if (opts.needPosts && postIds.length === 0) exec.test.abort("no posts to like, and none could be written");
  const before = snapshot();
  if (before.backlog !== null) backlogBefore.add(before.backlog);
  return {
    tokens: tokens.map((t) => t.token),
    postIds,
    // Idempotency keys must be unique across runs too.
    runId: `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`,
    before,
  };
}

export function teardown(data) {
  // Give Prometheus a scrape after the last request, so the deltas cover the whole run.
  sleep(SCRAPE_WAIT_S);
  const after = snapshot();
  if (after.backlog !== null) backlogAfter.add(after.backlog);
  if (after.hit !== null && data.before.hit !== null) {
    cacheHits.add(after.hit - data.before.hit);
    cacheMisses.add(after.miss - data.before.miss);
  }
}

// ---------------------------------------------------------------- requests

const pick = (xs) => xs[Math.floor(Math.random() * xs.length)];
const key = (data) => `k6-${data.runId}-${exec.scenario.name}-${exec.scenario.iterationInTest}`;

export function readFeed(data) {
  const res = http.get(`${BASE_URL}/feed?limit=20`, {
    headers: authHeaders(pick(data.tokens)),
    tags: { name: "GET /feed" },
  });
  countStatus(res);
  check(res, { "feed 200": (r) => r.status === 200 });
}

export function writePost(data) {
  const res = http.post(`${BASE_URL}/posts`, JSON.stringify({ text: `k6 post ${key(data)}` }), {
    headers: authHeaders(pick(data.tokens), {
      "content-type": "application/json",
      "idempotency-key": key(data),
    }),
    tags: { name: "POST /posts" },
  });
  countStatus(res);
  check(res, { "post 201": (r) => r.status === 201 });
}

export function likePost(data) {
  const res = http.post(`${BASE_URL}/likes`, JSON.stringify({ post_id: pick(data.postIds) }), {
    headers: authHeaders(pick(data.tokens), { "content-type": "application/json" }),
    tags: { name: "POST /likes" },
  });
  countStatus(res);
  // 201 a new like, 200 one the user had already given.
  check(res, { "like 200/201": (r) => r.status === 200 || r.status === 201 });
}

/** The writes of the mixed scenario: a post, then a like, alternately. */
export function writeOne(data) {
  if (exec.scenario.iterationInTest % 2 === 0) writePost(data);
  else likePost(data);
}

/** Runs only when the scenarios were replaced (K6_DURATION/K6_VUS in k6's environment). */
export function replacedScenarios() {
  exec.test.abort(
    "k6 ran its default scenario, so this script's scenarios were replaced: pass K6_DURATION and K6_RATE with -e, not as environment variables of k6",
  );
}

// ---------------------------------------------------------------- summary

const metricValue = (data, name, field) => {
  const m = data.metrics[name];
  return m && m.values && m.values[field] !== undefined ? m.values[field] : null;
};
const fmt = (n, digits = 1) => (n === null ? "n/a" : String(Math.round(n * 10 ** digits) / 10 ** digits));

/** The end-of-test summary as text: what perf/load.ts reports, from k6's figures. */
export function summaryText(data, offeredRate = RATE, durationS = DURATION_S) {
  const iterations = metricValue(data, "iterations", "count") || 0;
  const requests = metricValue(data, "http_reqs", "count") || 0;
  const achieved = durationS > 0 ? iterations / durationS : 0;
  const failed = metricValue(data, "http_req_failed", "rate");
  const dropped = metricValue(data, "dropped_iterations", "count") || 0;
  const classes = ["2xx", "3xx", "4xx", "5xx", "none"]
    .map((c) => [c, metricValue(data, `load_status_${c}`, "count")])
    .filter(([, n]) => n)
    .map(([c, n]) => `${c === "none" ? "no response" : c}: ${n}`)
    .join(", ");
  const hits = metricValue(data, "load_cache_hits", "value");
  const misses = metricValue(data, "load_cache_misses", "value");
  const ratio = hits !== null && misses !== null && hits + misses > 0 ? (100 * hits) / (hits + misses) : null;
  const d = (f) => metricValue(data, "http_req_duration", f);
  const thresholds = [];
  for (const name of Object.keys(data.metrics).sort()) {
    const t = data.metrics[name].thresholds;
    if (!t) continue;
    for (const expr of Object.keys(t)) thresholds.push(`${t[expr].ok ? "ok    " : "FAILED"} ${name} ${expr}`);
  }
  const rows = [
    [
      "requests",
      `${iterations} in the scenarios (${requests} with setup and teardown)${classes ? `; ${classes}` : ""}`,
    ],
    [
      "rate",
      `${fmt(achieved)} of ${offeredRate} req/s offered (${fmt(offeredRate ? (100 * achieved) / offeredRate : 0)}%), ${dropped} iterations dropped`,
    ],
    [
      "latency",
      `p50 ${fmt(d("med"), 2)} ms · p95 ${fmt(d("p(95)"), 2)} ms · p99 ${fmt(d("p(99)"), 2)} ms · max ${fmt(d("max"), 2)} ms`,
    ],
    ["errors", `${fmt(failed === null ? null : 100 * failed, 2)}% of requests failed (http_req_failed)`],
    [
      "backlog",
      `${fmt(metricValue(data, "load_backlog_before", "value"), 0)} → ${fmt(metricValue(data, "load_backlog_after", "value"), 0)} entries (stream lag + pending, every group, from Prometheus)`,
    ],
    [
      "feed cache",
      `${fmt(hits, 0)} hits, ${fmt(misses, 0)} misses during the run, hit ratio ${ratio === null ? "n/a" : `${fmt(ratio)}%`}`,
    ],
  ];
  const width = Math.max(...rows.map((r) => r[0].length));
  return `\n${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join("\n")}\n\n  thresholds\n${thresholds.map((t) => `    ${t}`).join("\n")}\n`;
}

export function handleSummary(data) {
  const out = { stdout: summaryText(data) };
  // The report as JSON too, where a writable path is given (compose mounts perf/ read-only).
  const file = env("LOAD_SUMMARY_JSON", "");
  if (file) out[file] = JSON.stringify(data, null, 2);
  return out;
}
