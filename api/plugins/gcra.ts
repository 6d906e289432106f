import { luaScript, type RedisClient, runScript } from "../../core/redis.ts";

// Rate limits: GCRA (the generic cell rate algorithm) in one Lua script, so the check and the
// update are atomic and every api process shares one exact budget per subject. Redis's own
// clock (TIME) is used, not the callers', so processes with skewed clocks still agree.

export interface RatePolicy {
  /** Names the policy in RateLimit / RateLimit-Policy headers and in keys. */
  name: string;
  /** Requests per window; 0 disables the policy. */
  limit: number;
  windowSeconds: number;
}

export interface RateDecision {
  allowed: boolean;
  /** Requests left right now (the burst still available). */
  remaining: number;
  /** Seconds until the full budget is back. */
  resetSeconds: number;
  /** Seconds to wait before the next request can pass (0 when allowed). */
  retryAfterSeconds: number;
}

// KEYS[1] the subject's key; ARGV: emission interval (ms), burst tolerance (ms).
// The stored value is the theoretical arrival time (TAT) in ms; a request passes when
// now >= TAT - tolerance, and moves TAT on by one interval.
const GCRA = luaScript(`
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if now < tat - tolerance then
  return {0, tat - tolerance - now, tat - now}
end
local new_tat = tat + interval
redis.call('SET', KEYS[1], new_tat, 'PX', math.max(1, new_tat - now))
return {1, 0, new_tat - now}
`);

export async function checkRate(redis: RedisClient, key: string, policy: RatePolicy): Promise<RateDecision> {
  const interval = (policy.windowSeconds * 1000) / policy.limit;
  // The whole limit may be spent at once (a burst), then one request per interval.
  const tolerance = interval * (policy.limit - 1);
  // EVALSHA: EVAL sent the script's text with every request and Redis hashed it each time.
  const [allowed, waitMs, aheadMs] = (await runScript(redis, GCRA, [key], [interval, tolerance])) as [
    number,
    number,
    number,
  ];
  const remaining = Math.max(0, Math.floor((tolerance + interval - aheadMs) / interval));
  return {
    allowed: allowed === 1,
    remaining: allowed === 1 ? remaining : 0,
    resetSeconds: Math.ceil(aheadMs / 1000),
    retryAfterSeconds: allowed === 1 ? 0 : Math.max(1, Math.ceil(waitMs / 1000)),
  };
}

/** Response headers of draft-ietf-httpapi-ratelimit-headers (RateLimit, RateLimit-Policy). */
export function rateHeaders(policy: RatePolicy, d: RateDecision): Record<string, string> {
  const h: Record<string, string> = {
    "ratelimit-policy": `"${policy.name}";q=${policy.limit};w=${policy.windowSeconds}`,
    ratelimit: `"${policy.name}";r=${d.remaining};t=${d.resetSeconds}`,
  };
  if (!d.allowed) h["retry-after"] = String(d.retryAfterSeconds);
  return h;
}
