// Token-bucket rate limits kept in Postgres (public.rate_limit_take), so every function
// instance shares them. A refused request is a 429 with Retry-After; allowed ones carry
// X-RateLimit-Limit / X-RateLimit-Remaining so clients can pace themselves.
import type { SupabaseClient } from '@supabase/supabase-js';
import { env } from './env.ts';
import { HttpError } from './errors.ts';
import { callRpc } from './rpc.ts';

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

/** Takes one token (or `cost`) from the bucket; throws a 429 HttpError with Retry-After when empty. */
export async function takeToken(
  db: SupabaseClient,
  bucket: string,
  limit: RateLimit,
  cost = 1,
): Promise<RateLimitState> {
  const state = await callRpc<RateLimitState>(db, 'rate_limit_take', {
    p_bucket: bucket,
    p_capacity: limit.capacity,
    p_refill_per_second: limit.refillPerMinute / 60,
    p_cost: cost,
  });
  if (!state.allowed) {
    const retryAfter = Math.max(1, Math.ceil(state.retry_after_seconds));
    throw new HttpError(429, 'rate_limited', `Too many requests: try again in ${retryAfter} s`, {
      ...rateLimitHeaders(state),
      'retry-after': String(retryAfter),
    });
  }
  return state;
}
