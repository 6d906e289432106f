import { rng } from "../lib/prng.ts";

// The chaos suite's traffic: an open-model load (requests leave at a fixed rate whether or not
// earlier ones have answered, as real clients do) of feed reads, posts, likes, unlikes, follows
// and unfollows from many users, with the bookkeeping the checks need:
// - every answer is classified: a status (each 4xx/5xx must be a valid problem+json, every 5xx
//   a 503), no answer within the client's timeout (hung), or no connection (refused: the api
//   process is down);
// - a write that got no definite answer (5xx, hung, refused, 409 in flight) is retried later
//   with the same Idempotency-Key and body, as a careful client would, until it gets one;
// - every post has a unique text, so the run can count afterwards that each acknowledged post
//   exists exactly once and none exists twice (a command applied twice).

export interface ChaosUser {
  id: string;
  token: string;
}

export interface LoadOptions {
  base: string;
  users: readonly ChaosUser[];
  /** Followed by everyone: a pull author. Posts now and then; never unfollowed. */
  celebrity: ChaosUser;
  /** Requests per second. */
  rate: number;
  runId: string;
  seed: number;
  timeoutMs: number;
  /** At most this many requests in flight; one more is dropped and counted. */
  maxInFlight?: number;
  /**
   * Steady-state likes (the soak): each user keeps at most this many likes; a like at the bound
   * unlikes the user's oldest instead, and an unlike takes one of the user's own. Without it
   * likes land on random posts and unlikes mostly miss, so the likes table (and every cache of
   * it) grows all run long, which is right for chaos but hides a leak in a soak.
   */
  likesPerUser?: number;
}

export interface LoadStats {
  sent: number;
  byStatus: Record<string, number>;
  /** No answer within the client's timeout. */
  hung: number;
  /** No connection: the api process was down. */
  refused: number;
  /** 5xx other than 503: an outage must never look like a bug. */
  unexpected5xx: number;
  /** 4xx/5xx whose body is not a problem+json with a matching status. */
  badProblems: number;
  dropped: number;
  examples: string[];
}

interface Write {
  method: string;
  path: string;
  body: unknown;
  key: string;
  token: string;
  /** For posts: the text that identifies it. */
  text?: string;
  attempts: number;
}

export interface PostRecord {
  author: string;
  acked: boolean;
  id?: string;
}

type Outcome = { kind: "status"; status: number; body: unknown } | { kind: "hung" } | { kind: "refused" };

const emptyStats = (): LoadStats => ({
  sent: 0,
  byStatus: {},
  hung: 0,
  refused: 0,
  unexpected5xx: 0,
  badProblems: 0,
  dropped: 0,
  examples: [],
});

export class ChaosLoad {
  readonly posts = new Map<string, PostRecord>();
  private readonly postIds: string[] = [];
  /** With likesPerUser: each user's likes in the order sent, oldest first. */
  private readonly likedBy = new Map<string, string[]>();
  private readonly retryQueue: Write[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly rnd: () => number;
  private s = emptyStats();
  private latencies: number[] = [];
  private timer: ReturnType<typeof setInterval> | null = null;
  private seq = 0;

  constructor(private readonly o: LoadOptions) {
    this.rnd = rng(o.seed);
  }

  get stats(): LoadStats {
    return this.s;
  }

  resetStats(): LoadStats {
    const old = this.s;
    this.s = emptyStats();
    return old;
  }

  /** Latencies (ms) of the requests answered since the last call. */
  takeLatencies(): number[] {
    const out = this.latencies;
    this.latencies = [];
    return out;
  }

  get unresolvedWrites(): number {
    return this.retryQueue.length;
  }

  /** Sends at the configured rate until stop(). */
  start(): void {
    if (this.timer) return;
    const started = performance.now();
    let launched = 0;
    this.timer = setInterval(() => {
      const due = Math.floor(((performance.now() - started) * this.o.rate) / 1000);
      for (; launched < due; launched++) {
        if (this.inFlight.size >= (this.o.maxInFlight ?? 500)) {
          this.s.dropped++;
          continue;
        }
        this.track(this.one());
      }
    }, 5);
  }

  /** Stops sending and waits for every request in flight. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all([...this.inFlight]);
  }

  /** n posts at once by the given authors (the moment to kill a projector mid-batch). */
  async burst(authors: readonly ChaosUser[], n: number): Promise<void> {
    await Promise.all(
      Array.from({ length: n }, (_, i) => this.track(this.post(authors[i % authors.length]!))),
    );
  }

  /** One post by `author` now, answered or not (the poison fault's post). */
  async postAs(author: ChaosUser): Promise<string> {
    const text = this.nextText();
    await this.postText(author, text);
    return text;
  }

  /**
   * Retries every write that got no definite answer, with its own key and body, until each has
   * one or the deadline passes. Returns how many are still unresolved.
   */
  async settleWrites(deadlineMs: number): Promise<number> {
    const end = Date.now() + deadlineMs;
    while (this.retryQueue.length > 0 && Date.now() < end) {
      const batch = this.retryQueue.splice(0, this.retryQueue.length);
      await Promise.all(batch.map((w) => this.write(w)));
      if (this.retryQueue.length > 0) await Bun.sleep(300);
    }
    return this.retryQueue.length;
  }

  private track(p: Promise<void>): Promise<void> {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
    return p;
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)]!;
  }

  private nextText(): string {
    return `chaos ${this.o.runId} #${++this.seq}`;
  }

  private async one(): Promise<void> {
    const r = this.rnd();
    const user = this.pick(this.o.users);
    if (r < 0.55) {
      const out = await this.send("GET", "/feed?limit=20", user.token);
      this.record(out, "GET /feed");
      return;
    }
    // One post in thirty is the celebrity's (pulled at read time); the rest are pushed to their
    // authors' followers. (This branch sees r in [0.55, 0.7): the threshold must lie inside it.)
    if (r < 0.7) return this.post(r < 0.555 ? this.o.celebrity : user);
    if (r < 0.8 && this.postIds.length) return this.like(user);
    if (r < 0.85 && this.postIds.length) return this.unlike(user);
    const other = this.pick(this.o.users);
    if (other.id === user.id) return;
    if (r < 0.94)
      return this.write({
        method: "POST",
        path: "/follows",
        body: { user_id: other.id },
        key: crypto.randomUUID(),
        token: user.token,
        attempts: 0,
      });
    return this.write({
      method: "DELETE",
      path: `/follows/${other.id}`,
      body: undefined,
      key: crypto.randomUUID(),
      token: user.token,
      attempts: 0,
    });
  }

  private like(user: ChaosUser): Promise<void> {
    const cap = this.o.likesPerUser;
    const mine = this.likedBy.get(user.id) ?? [];
    if (cap !== undefined && mine.length >= cap) return this.sendUnlike(user, mine.shift()!);
    const postId = this.pick(this.postIds);
    if (cap !== undefined && !mine.includes(postId)) {
      mine.push(postId);
      this.likedBy.set(user.id, mine);
    }
    return this.write({
      method: "POST",
      path: "/likes",
      body: { post_id: postId },
      key: crypto.randomUUID(),
      token: user.token,
      attempts: 0,
    });
  }

  private unlike(user: ChaosUser): Promise<void> {
    const mine = this.o.likesPerUser === undefined ? [] : (this.likedBy.get(user.id) ?? []);
    const postId = mine.length
      ? mine.splice(Math.floor(this.rnd() * mine.length), 1)[0]!
      : this.pick(this.postIds);
    return this.sendUnlike(user, postId);
  }

  private sendUnlike(user: ChaosUser, postId: string): Promise<void> {
    return this.write({
      method: "DELETE",
      path: `/likes/${postId}`,
      body: undefined,
      key: crypto.randomUUID(),
      token: user.token,
      attempts: 0,
    });
  }

  private post(author: ChaosUser): Promise<void> {
    return this.postText(author, this.nextText());
  }

  private postText(author: ChaosUser, text: string): Promise<void> {
    this.posts.set(text, { author: author.id, acked: false });
    return this.write({
      method: "POST",
      path: "/posts",
      body: { text },
      key: crypto.randomUUID(),
      token: author.token,
      text,
      attempts: 0,
    });
  }

  private async write(w: Write): Promise<void> {
    w.attempts++;
    const out = await this.send(w.method, w.path, w.token, w.body, w.key);
    this.record(out, `${w.method} ${w.path.replace(/\/\d+$/, "/:id")}`);
    const definite = out.kind === "status" && out.status < 500 && out.status !== 409;
    if (!definite) {
      this.retryQueue.push(w);
      return;
    }
    if (w.text && out.kind === "status" && out.status === 201) {
      const id = (out.body as { id?: string }).id;
      const rec = this.posts.get(w.text);
      if (rec) {
        rec.acked = true;
        rec.id = id;
      }
      if (id) this.postIds.push(id);
    }
  }

  private async send(
    method: string,
    path: string,
    token: string,
    body?: unknown,
    key?: string,
  ): Promise<Outcome> {
    this.s.sent++;
    const t0 = performance.now();
    try {
      const res = await fetch(`${this.o.base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(key ? { "idempotency-key": key } : {}),
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {}
      if (res.status >= 400) {
        const p = parsed as { status?: unknown; title?: unknown; type?: unknown } | null;
        const ok =
          (res.headers.get("content-type") ?? "").startsWith("application/problem+json") &&
          p?.status === res.status &&
          typeof p?.title === "string" &&
          typeof p?.type === "string";
        if (!ok)
          this.example(
            `bad problem for ${method} ${path}: ${res.status} ${text.slice(0, 200)}`,
            "badProblems",
          );
      }
      this.latencies.push(performance.now() - t0);
      return { kind: "status", status: res.status, body: parsed };
    } catch (e) {
      const name = (e as Error)?.name;
      if (name === "TimeoutError" || name === "AbortError") return { kind: "hung" };
      return { kind: "refused" };
    }
  }

  private record(out: Outcome, what: string): void {
    if (out.kind === "hung") {
      this.example(`${what}: no answer within ${this.o.timeoutMs} ms`, "hung");
      return;
    }
    if (out.kind === "refused") {
      this.s.refused++;
      return;
    }
    const k = String(out.status);
    this.s.byStatus[k] = (this.s.byStatus[k] ?? 0) + 1;
    if (out.status >= 500 && out.status !== 503)
      this.example(`${what}: ${out.status} ${JSON.stringify(out.body).slice(0, 300)}`, "unexpected5xx");
  }

  private example(line: string, counter: "hung" | "unexpected5xx" | "badProblems"): void {
    this.s[counter]++;
    if (this.s.examples.length < 10) this.s.examples.push(line);
  }
}
