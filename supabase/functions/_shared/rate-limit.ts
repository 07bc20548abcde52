// Token-bucket rate limits kept in Postgres (public.rate_limit_take, taken inside
// cache_lookup_guarded in the lookup's round trip), so every function instance shares them.
// A refused request is a 429 with Retry-After; allowed ones carry X-RateLimit-Limit /
// X-RateLimit-Remaining so clients can pace themselves.
import { env } from './env.ts';
import { HttpError } from './errors.ts';

export interface RateLimit {
  /** Burst size: how many requests a fresh bucket allows at once. */
  capacity: number;
  /** Sustained rate: tokens added per minute. */
  refillPerMinute: number;
}

export interface RateLimitState {
  allowed: boolean;
  remaining: number;
  limit: number;
  retry_after_seconds: number;
}

/** `<PREFIX>_CAPACITY` and `<PREFIX>_REFILL_PER_MIN` from the environment, else the defaults. */
export function rateLimitFromEnv(prefix: string, fallback: RateLimit): RateLimit {
  const read = (name: string, dflt: number) => {
    const raw = env(name);
    if (raw === undefined || raw.trim() === '') return dflt;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
    return n;
  };
  return {
    capacity: Math.max(1, Math.floor(read(`${prefix}_CAPACITY`, fallback.capacity))),
    refillPerMinute: read(`${prefix}_REFILL_PER_MIN`, fallback.refillPerMinute),
  };
}

export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  return {
    'x-ratelimit-limit': String(state.limit),
    'x-ratelimit-remaining': String(Math.max(0, state.remaining)),
  };
}

/** A take of `cost` tokens from `bucket`: rate_limit_take's arguments, as cache_lookup_guarded takes them. */
export function rateLimitArgs(bucket: string, limit: RateLimit, cost = 1) {
  return { bucket, capacity: limit.capacity, refill_per_second: limit.refillPerMinute / 60, cost };
}

/** The 429 of a refused take, with Retry-After and the X-RateLimit-* headers. */
export function rateLimited(state: RateLimitState): HttpError {
  const retryAfter = Math.max(1, Math.ceil(state.retry_after_seconds));
  return new HttpError(429, 'rate_limited', `Too many requests: try again in ${retryAfter} s`, {
    ...rateLimitHeaders(state),
    'retry-after': String(retryAfter),
  });
}
