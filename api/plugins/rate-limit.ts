import { Elysia } from "elysia";
import ipaddr from "ipaddr.js";
import { type Config, perConfig } from "../../core/config.ts";
import { AppError } from "../../core/errors.ts";
import { withRedis } from "../../core/redis-breaker.ts";
import { keys } from "../../core/redis-keys.ts";
import type { Deps } from "../deps.ts";
import { checkRate, type RatePolicy, rateHeaders } from "./gcra.ts";

// Rate limits on the api: reads and writes per signed-in user (applied in requireAuth, once the
// user is known), sign-in routes per client IP (this plugin, on /auth/*). When Redis cannot be
// reached, sign-in fails closed (503: an attacker must not get unlimited guesses by taking
// Redis down) and everything else fails open, counted in rate_limit_bypassed_total.

export type PolicyName = "reads" | "writes" | "auth";

export const policiesOf = perConfig(
  (c: Config): Record<PolicyName, RatePolicy> => ({
    reads: { name: "reads", limit: c.RATE_LIMIT_READS_PER_MINUTE, windowSeconds: 60 },
    writes: { name: "writes", limit: c.RATE_LIMIT_WRITES_PER_MINUTE, windowSeconds: 60 },
    auth: { name: "auth", limit: c.RATE_LIMIT_AUTH_PER_MINUTE, windowSeconds: 60 },
  }),
);

/** Spends one request of `subject`'s budget, or throws 429 (or 503 for sign-in without Redis). */
export async function enforceRate(
  deps: Deps,
  which: PolicyName,
  subject: string,
  headers: Record<string, string | number>,
): Promise<void> {
  const policy = policiesOf(deps.config)[which];
  if (policy.limit === 0) return;
  // null: Redis unreachable or hung (the breaker then spares the next requests the wait).
  let failure: unknown = null;
  const decision = await withRedis(
    deps.redis,
    () => checkRate(deps.redis, keys.rate(policy.name, subject), policy),
    () => null,
  ).catch((e) => {
    failure = e;
    return null;
  });
  if (!decision) {
    if (which === "auth")
      throw new AppError("not_ready", "sign-in is briefly unavailable; retry shortly", {
        headers: { "retry-after": "5" },
        internal: { reason: "the sign-in rate limiter (Redis) cannot be reached", error: String(failure) },
      });
    deps.metrics.rateLimitBypassed.inc({ policy: policy.name });
    deps.log?.({
      level: "warn",
      msg: "rate limit skipped: Redis unreachable",
      policy: policy.name,
      error: String(failure ?? "Redis is down"),
    });
    return;
  }
  const h = rateHeaders(policy, decision);
  if (!decision.allowed) {
    deps.metrics.rateLimited.inc({ policy: policy.name });
    throw new AppError(
      "rate_limited",
      `more than ${policy.limit} ${policy.name} requests per ${policy.windowSeconds} s; retry in ${decision.retryAfterSeconds} s`,
      { headers: h },
    );
  }
  Object.assign(headers, h);
}

/**
 * The client's address. Each trusted proxy appends the address it received from to
 * X-Forwarded-For, so with n of them the client is n hops from the right of the chain (the
 * header's entries, then the socket's address); anything further left is the client's own say.
 * Too short a chain (a request that bypassed the proxies) falls back to its leftmost entry.
 */
export function clientIp(
  config: Config,
  request: Request,
  server: { requestIP(r: Request): { address: string } | null } | null,
): string {
  const socket = server?.requestIP(request)?.address ?? "unknown";
  const n = config.TRUSTED_PROXIES;
  if (n === 0) return socket;
  // Every X-Forwarded-For field, in order: a repeated header is one list (RFC 9110 §5.3).
  const forwarded = (request.headers.get("x-forwarded-for") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const chain = [...forwarded, socket];
  return chain[Math.max(0, chain.length - 1 - n)]!;
}

/**
 * The subject an address is limited as: an IPv4 address itself (IPv4-mapped IPv6 included), an
 * IPv6 address by its /64, which one subscriber usually holds whole and can rotate through.
 */
export function rateSubject(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  const ip = ipaddr.process(address); // ::ffff:a.b.c.d becomes a.b.c.d
  if (ip.kind() === "ipv4") return ip.toString();
  const parts = (ip as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16));
  return `${parts.join(":")}::/64`;
}

/** Per-IP limit for the routes registered after it (the sign-in routes). */
export const limitByIp = (deps: Deps) =>
  new Elysia().onBeforeHandle({ as: "scoped" }, async ({ request, server, set }) => {
    await enforceRate(
      deps,
      "auth",
      rateSubject(clientIp(deps.config, request, server)),
      set.headers as Record<string, string>,
    );
  });
