// The native load runner (`./dev load`): an offered request rate against the running
// stack, acting as seeded users whose tokens come from the api's load-test signer, with a
// report of what the clients saw (rate, latency, errors) and what the services did meanwhile
// (stream backlog, feed cache) read from their /metrics before and after. Options: --help.
import { mkdir } from "node:fs/promises";
import autocannon from "autocannon";
import { apiFetch } from "./lib/http.ts";
import {
  buildReport,
  formatReport,
  type LoadOptions,
  type MetricsSnapshot,
  parseLoadArgs,
  type RequestKind,
  reportFileName,
  requestKind,
  snapshotOf,
  USAGE,
  UsageError,
} from "./load-report.ts";

class LoadError extends Error {}

interface Token {
  user_id: string;
  token: string;
}

async function fetchTokens(o: LoadOptions, secret: string): Promise<{ tokens: Token[]; expiresIn: number }> {
  const tokens: Token[] = [];
  let expiresIn = 900;
  while (tokens.length < o.users) {
    const count = Math.min(1000, o.users - tokens.length);
    const res = await fetch(`${o.baseUrl}/loadtest/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-load-test-secret": secret },
      body: JSON.stringify({ count, offset: tokens.length }),
    });
    if (res.status === 404)
      throw new LoadError(
        `${o.baseUrl} has no load-test signer (POST /loadtest/tokens is 404): the api must run with LOAD_TEST_SECRET set. ./dev exports a development one; an api started before that needs a restart (./dev down && ./dev up).`,
      );
    if (res.status === 401)
      throw new LoadError(
        `the api refused LOAD_TEST_SECRET (401): this shell's value differs from the api's`,
      );
    if (!res.ok) throw new LoadError(`POST /loadtest/tokens answered ${res.status}: ${await res.text()}`);
    const body = (await res.json()) as { tokens: Token[]; expires_in: number };
    tokens.push(...body.tokens);
    expiresIn = body.expires_in;
    if (body.tokens.length < count) break;
  }
  if (tokens.length === 0)
    throw new LoadError("there are no seeded users (handles s_0, s_1, …): run ./dev seed first");
  return { tokens, expiresIn };
}

async function api(o: LoadOptions, token: string, method: string, path: string, body?: unknown) {
  const res = await apiFetch(o.baseUrl, token, method, path, body);
  if (!res.ok) throw new LoadError(`${method} ${path} answered ${res.status}: ${await res.text()}`);
  return res.json();
}

/**
 * Posts to like: the newest posts of the first users. With fewer than `want` (an unseeded or
 * fresh database), the users write some first, so a likes run always has targets.
 */
async function collectPostIds(o: LoadOptions, tokens: Token[], want = 20): Promise<string[]> {
  const ids = new Set<string>();
  for (let i = 0; i < Math.min(tokens.length, 100); i += 20) {
    const pages = await Promise.all(
      tokens.slice(i, i + 20).map(
        (t) =>
          api(o, t.token, "GET", `/users/${t.user_id}/posts?limit=20`) as Promise<{
            items: { id: string }[];
          }>,
      ),
    );
    for (const page of pages) for (const p of page.items) ids.add(p.id);
  }
  const missing = want - ids.size;
  if (missing > 0) {
    console.log(`  only ${ids.size} posts to like: the users write ${missing} first`);
    for (let i = 0; i < missing; i++) {
      const t = tokens[i % tokens.length]!;
      const post = (await api(o, t.token, "POST", "/posts", { text: `load test post ${i}` })) as {
        id: string;
      };
      ids.add(post.id);
    }
  }
  return [...ids];
}

async function snapshot(o: LoadOptions): Promise<MetricsSnapshot> {
  const text = async (url: string) => {
    const res = await fetch(url);
    if (!res.ok) throw new LoadError(`${url} answered ${res.status}`);
    return res.text();
  };
  const [apiText, projectorText] = await Promise.all([
    text(`${o.metricsUrl}/metrics`),
    text(`${o.projectorUrl}/metrics`).catch((e) => {
      // The client-side figures still stand without the projector; the backlog then reads 0.
      console.warn(
        `  warning: projector metrics unavailable (${(e as Error).message}); backlog not measured`,
      );
      return "";
    }),
  ]);
  return snapshotOf(apiText, projectorText);
}

async function main() {
  let o: LoadOptions;
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  try {
    o = parseLoadArgs(argv, process.env);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`load: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  const secret = process.env.LOAD_TEST_SECRET;
  if (!secret)
    throw new LoadError("LOAD_TEST_SECRET is not set: ./dev load exports the development one, or export it");

  console.log(`load: ${o.scenario}, ${o.rate} req/s offered for ${o.durationS} s against ${o.baseUrl}`);
  const fetched = await fetchTokens(o, secret);
  let tokens = fetched.tokens;
  console.log(`  ${tokens.length} seeded users' tokens from the signer`);
  const postIds = o.scenario === "likes" || o.scenario === "mixed" ? await collectPostIds(o, tokens) : [];
  if (postIds.length) console.log(`  ${postIds.length} posts to like`);

  // Tokens live 15 minutes at most: a longer run swaps in fresh ones before they expire.
  const refresh = setInterval(
    () => {
      fetchTokens(o, secret).then(
        (f) => {
          tokens = f.tokens;
        },
        (e) => console.warn(`  warning: refreshing tokens failed: ${(e as Error).message}`),
      );
    },
    Math.max(30, fetched.expiresIn - 120) * 1000,
  );

  const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
  let sent = 0;
  const build = (kind: RequestKind, req: autocannon.Request): autocannon.Request => {
    const headers = { authorization: `Bearer ${pick(tokens).token}` };
    switch (kind) {
      case "feed":
        return { ...req, method: "GET", path: "/feed?limit=20", headers, body: undefined };
      case "post":
        return {
          ...req,
          method: "POST",
          path: "/posts",
          headers: { ...headers, "content-type": "application/json", "idempotency-key": crypto.randomUUID() },
          body: JSON.stringify({ text: `load test post ${sent} at ${Date.now()}` }),
        };
      case "like":
        return {
          ...req,
          method: "POST",
          path: "/likes",
          headers: { ...headers, "content-type": "application/json" },
          body: JSON.stringify({ post_id: pick(postIds) }),
        };
    }
  };

  const before = await snapshot(o);
  const latenciesMs: number[] = [];
  const statuses: Record<string, number> = {};
  const startedAt = new Date();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: o.baseUrl,
        connections: o.connections,
        overallRate: o.rate,
        duration: o.durationS,
        // Latencies are recorded from the response events below: autocannon's own histogram
        // keeps 2xx only and "corrects" rate-limited runs with an interval in the wrong unit.
        requests: [
          { setupRequest: (req: autocannon.Request) => build(requestKind(o.scenario, sent++), req) },
        ],
      },
      (err, r) => (err ? reject(err) : resolve(r)),
    );
    instance.on("response", (_client, status: number, _bytes: number, ms: number) => {
      latenciesMs.push(ms);
      statuses[status] = (statuses[status] ?? 0) + 1;
    });
  });
  clearInterval(refresh);
  const after = await snapshot(o);

  const report = buildReport({
    scenario: o.scenario,
    offeredRate: o.rate,
    durationS: o.durationS,
    elapsedS: result.duration,
    connections: o.connections,
    users: tokens.length,
    latenciesMs,
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    before,
    after,
    limits: { maxErrorRate: o.maxErrorRate, minRateRatio: o.minRateRatio },
    startedAt: startedAt.toISOString(),
    baseUrl: o.baseUrl,
  });
  const dir = `${import.meta.dir}/results`;
  await mkdir(dir, { recursive: true });
  const file = `${dir}/${reportFileName(o.scenario, startedAt)}`;
  await Bun.write(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\n${formatReport(report)}\n\n  report: ${file.replace(`${process.cwd()}/`, "")}`);
  if (!report.ok) {
    for (const f of report.failures) console.error(`load: ${f}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`load: ${e instanceof LoadError ? e.message : (e as Error).stack}`);
    process.exit(1);
  },
);
