// The cache protocol over the hot-path RPCs: lookup (with the single-flight lease), waiting on
// another caller's lease, storing and releasing. One shape for every function that caches.
//
// Single-flight, in one place: after a miss, leadOrFollow() either makes the request the
// leader (a Lease it owns for the rest of the request, renewed on a timer while the model
// works, streams included) or a follower that polls while the leader's lease is alive and
// is served the leader's answer (COALESCED). A follower whose own deadline comes first
// answers STALE when an expired entry exists, else 503 coalesce_timeout: it never calls the
// model without the lease. A leader that dies stops renewing; its lease expires and the next
// poll of a follower takes it over.
import type { SupabaseClient } from '@supabase/supabase-js';
import { afterResponse } from './background.ts';
import type { Deadline } from './deadline.ts';
import { HttpError } from './errors.ts';
import { rateLimitArgs, rateLimited, type RateLimitState } from './rate-limit.ts';
import { callRpc } from './rpc.ts';

export type CacheStatus = 'HIT' | 'MISS' | 'BYPASS' | 'STALE' | 'COALESCED';

export interface CacheEntry<R = unknown> {
  id: number;
  cache_type: string;
  model: string;
  cached_result: R;
  created_at: string;
  expires_at: string;
  age_seconds: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost_usd: number;
}

export type LookupResult<R = unknown> =
  | ({ status: 'hit' } & CacheEntry<R>)
  | {
    status: 'miss';
    stale: (CacheEntry<R> & { expired: boolean }) | null;
    lease: 'acquired' | 'held' | null;
    lease_expires_at: string | null;
  };

/** Where an answer lives and how fresh it must be. */
export interface CacheTarget {
  /** Scope: a company id, or null for the global scope. */
  companyId: string | null;
  key: string;
  type: string;
  maxAgeSeconds: number | null;
  /** Set to take part in single-flight; null when the caller must not call the model (only-if-cached). */
  leaseOwner: string | null;
  leaseMs: number;
}

export interface StoreRequest {
  model: string;
  request: unknown;
  result: unknown;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  ttlSeconds: number;
  keyVersion: number;
}

/** The `p_cache` argument of chat_turn, i.e. cache_lookup's arguments as JSON. */
export function lookupArgs(t: CacheTarget) {
  return {
    company_id: t.companyId,
    cache_key: t.key,
    cache_type: t.type,
    max_age_seconds: t.maxAgeSeconds,
    lease_owner: t.leaseOwner,
    lease_ms: t.leaseMs,
  };
}

/** The `p_store` argument of chat_turn_complete, i.e. cache_store's arguments as JSON. */
export function storeArgs(t: CacheTarget, s: StoreRequest) {
  return {
    company_id: t.companyId,
    cache_key: t.key,
    cache_type: t.type,
    model: s.model,
    request: s.request,
    result: s.result,
    prompt_tokens: s.promptTokens,
    completion_tokens: s.completionTokens,
    cost_usd: s.costUsd,
    ttl_seconds: s.ttlSeconds,
    key_version: s.keyVersion,
    lease_owner: t.leaseOwner,
  };
}

/** The RPCs' named arguments: the JSON arguments above with PostgREST's `p_` prefix. */
function rpcArgs(args: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(args).map(([k, v]) => [`p_${k}`, v]));
}

/** What must hold before a lookup: a token from a rate-limit bucket, a user's membership of the scope. */
export interface LookupGuard {
  rateLimit: ReturnType<typeof rateLimitArgs> | null;
  memberUserId: string | null;
}

/**
 * The guard and the lookup in one round trip (cache_lookup_guarded): a refused token is a 429,
 * a non-member a 403 (the limiter first). `t` null: the guard only (no-cache, no-store).
 */
export async function guardedLookup<R>(
  db: SupabaseClient,
  companyId: string | null,
  guard: LookupGuard,
  t: CacheTarget | null,
): Promise<{ rate: RateLimitState | null; found: LookupResult<R> | null }> {
  const r = await callRpc<{ rate_limit: RateLimitState | null; status: string; lookup: LookupResult<R> | null }>(
    db,
    'cache_lookup_guarded',
    {
      p_company_id: companyId,
      p_rate_limit: guard.rateLimit,
      p_member_user_id: guard.memberUserId,
      p_cache: t ? lookupArgs(t) : null,
    },
  );
  if (r.status === 'rate_limited') throw rateLimited(r.rate_limit!);
  if (r.status === 'forbidden') throw new HttpError(403, 'forbidden', `not a member of company ${companyId}`);
  return { rate: r.rate_limit, found: r.lookup };
}

export function store(db: SupabaseClient, t: CacheTarget, s: StoreRequest): Promise<{ id: number }> {
  return callRpc(db, 'cache_store', rpcArgs(storeArgs(t, s)), 2);
}

/** Gives the lease back; with `failed`, records an upstream error for the metrics. Never throws. */
async function releaseLease(db: SupabaseClient, t: CacheTarget, failed: boolean): Promise<void> {
  if (!t.leaseOwner && !failed) return;
  try {
    await callRpc(db, 'cache_release_lease', {
      p_company_id: t.companyId,
      p_cache_key: t.key,
      p_lease_owner: t.leaseOwner ?? '',
      p_error: failed,
      p_cache_type: t.type,
    }, 2);
  } catch (e) {
    // The lease expires on its own; losing one error count is not worth failing the request.
    console.error('cache_release_lease failed:', e);
  }
}

/** Response headers of an answer the model gave but the cache could not keep (still X-Cache: MISS). */
export const STORE_FAILED: Record<string, string> = { 'x-cache-warning': 'store-failed' };

/** What one model call cost: recorded even when its answer could not be stored. */
export interface Spend {
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

/**
 * The request's part in single-flight, and the one owner of its lease: whoever leads holds
 * exactly one Lease and ends it exactly once, by one of stored() (cache_store dropped it with
 * the entry), unstored() (the answer could not be stored: spend recorded, lease dropped),
 * release() (no answer, or one not worth caching) or settle() in a `finally` (whatever is
 * left). While held it is renewed every third of its length, so an answer slower than
 * AI_CACHE_LEASE_MS keeps its followers waiting instead of sending them to the model.
 * A lease that is not held (no-cache, or no lease asked) renews nothing; release(true)
 * still counts the upstream error.
 */
export class Lease {
  #timer: ReturnType<typeof setInterval> | undefined;
  #done = false;
  /** Handed to storeWithin / recordWithin, which end it (maybe after the response): settle() leaves it alone. */
  #handedOff = false;

  constructor(
    private readonly db: SupabaseClient,
    readonly target: CacheTarget,
    readonly held: boolean,
    /** Nothing the request does outlives its deadline, so no renewal does either. */
    private readonly deadline: Deadline,
  ) {
    if (held && target.leaseOwner) {
      this.#timer = setInterval(() => void this.#renew(), Math.max(10, Math.floor(target.leaseMs / 3)));
    }
  }

  async #renew(): Promise<void> {
    if (this.#done) return;
    if (this.deadline.expired()) return this.#stop();
    try {
      const expiresAt = await callRpc<string | null>(this.db, 'cache_renew_lease', {
        p_company_id: this.target.companyId,
        p_cache_key: this.target.key,
        p_lease_owner: this.target.leaseOwner,
        p_lease_ms: this.target.leaseMs,
      });
      // Lost (expired and taken over): stop renewing; our answer is still stored when it comes.
      if (expiresAt === null) this.#stop();
    } catch (e) {
      // One missed renewal is covered by the two left before the lease runs out.
      console.error('cache_renew_lease failed:', e);
    }
  }

  #stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #end(): boolean {
    this.#stop();
    if (this.#done) return false;
    this.#done = true;
    return true;
  }

  /** cache_store (alone or inside a caller's own RPC) stored the answer and dropped the lease. */
  stored(): void {
    this.#end();
  }

  /** Gives the lease back; `failed` counts an upstream error. Never throws. */
  async release(failed: boolean): Promise<void> {
    if (this.#end() && (this.held || failed)) await releaseLease(this.db, this.target, failed);
  }

  /**
   * The model answered and was paid, but the answer could not be stored: records the spend
   * (a best-effort write of its own) and drops the lease, so followers take over at once.
   * Never throws.
   */
  async unstored(spend: Spend): Promise<void> {
    if (!this.#end()) return;
    try {
      await callRpc(this.db, 'cache_record_spend', {
        p_company_id: this.target.companyId,
        p_cache_type: this.target.type,
        p_prompt_tokens: spend.promptTokens,
        p_completion_tokens: spend.completionTokens,
        p_cost_usd: spend.costUsd,
        p_cache_key: this.target.key,
        p_lease_owner: this.target.leaseOwner,
      }, 2);
    } catch (e) {
      console.error('cache_record_spend failed:', e);
      await releaseLease(this.db, this.target, false);
    }
  }

  /**
   * Stores the answer for a caller that was not promised durability, waiting for it at most
   * `waitMs` (AI_CACHE_STORE_WAIT_MS): 'stored' or 'failed' (unstored(spend) done: flag the
   * answer) when it settled in time, else 'later': the answer goes out now and the store
   * finishes after it (afterResponse: EdgeRuntime.waitUntil on the platform), the lease held
   * and renewed until then so followers wait for the entry instead of calling the model.
   * A store is one quick asynchronous commit, so in the usual case the entry is there before
   * the answer; a slow database never holds a paid answer back longer than `waitMs`.
   * Never throws.
   */
  async storeWithin(
    label: string,
    save: () => Promise<unknown>,
    spend: Spend,
    waitMs: number,
  ): Promise<'stored' | 'failed' | 'later'> {
    this.#handedOff = true;
    const saving = save().then(() => true, (err) => {
      console.error(`${label} failed:`, err);
      return false;
    });
    const end = async (ok: boolean) => (ok ? this.stored() : await this.unstored(spend));
    const first = await this.#soon(saving, waitMs);
    if (first === 'later') {
      afterResponse(label, async () => end(await saving));
      return 'later';
    }
    await end(first);
    return first ? 'stored' : 'failed';
  }

  /** unstored(spend) for an answer not to be kept, waiting for it at most `waitMs` (as storeWithin). */
  async recordWithin(label: string, spend: Spend, waitMs: number): Promise<void> {
    this.#handedOff = true;
    const recording = this.unstored(spend);
    if ((await this.#soon(recording, waitMs)) === 'later') afterResponse(label, () => recording);
  }

  /** `p`'s value if it settles within `waitMs`, else 'later'. */
  async #soon<T>(p: Promise<T>, waitMs: number): Promise<T | 'later'> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'later'>((r) => (timer = setTimeout(() => r('later'), waitMs)));
    try {
      return await Promise.race([p, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** For a `finally`: gives back a lease nothing else ended (or handed to storeWithin / recordWithin). */
  async settle(): Promise<void> {
    if (!this.#handedOff) await this.release(false);
  }
}

/** The outcome of a miss: serve an entry (the leader's answer, or a stale one), or lead. */
export type MissResolution<R> = { entry: CacheEntry<R>; status: 'COALESCED' | 'STALE' } | { lease: Lease };

/**
 * After a miss (or no lookup at all, with no-cache / no-store): the request leads with the
 * lease it acquired (or none), or, when another caller holds the lease, waits for that
 * caller's answer as long as the lease is alive and its own deadline allows. At the deadline:
 * the stale entry if there is one, else 503 coalesce_timeout with Retry-After (and
 * `errorHeaders`, e.g. X-Conversation-Id).
 */
export async function leadOrFollow<R>(
  db: SupabaseClient,
  t: CacheTarget,
  found: LookupResult<R> | null,
  deadline: Deadline,
  errorHeaders: Record<string, string> = {},
): Promise<MissResolution<R>> {
  const miss = found?.status === 'miss' ? found : null;
  if (miss?.lease !== 'held') return { lease: new Lease(db, t, miss?.lease === 'acquired', deadline) };
  const waited = await awaitLeader<R>(db, t, deadline);
  if ('hit' in waited) return { entry: waited.hit, status: 'COALESCED' };
  if ('lead' in waited) return { lease: new Lease(db, t, true, deadline) };
  if (miss.stale) return { entry: miss.stale, status: 'STALE' };
  const leaseLeft = waited.leaseExpiresAt ? Date.parse(waited.leaseExpiresAt) - Date.now() : t.leaseMs;
  throw new HttpError(
    503,
    'coalesce_timeout',
    'An identical request is still being answered by the model; retry shortly to get its answer from the cache',
    { ...errorHeaders, 'x-cache': 'MISS', 'retry-after': String(Math.max(1, Math.ceil(leaseLeft / 1000))) },
  );
}

/**
 * Another caller holds the lease for this key: poll with backoff (5 ms growing to 100 ms,
 * then to 250 ms after two seconds) until its answer is stored (a COALESCED hit), the lease
 * frees up or expires without an answer (we lead now), or our own deadline passes.
 */
async function awaitLeader<R>(
  db: SupabaseClient,
  t: CacheTarget,
  deadline: Deadline,
): Promise<{ hit: CacheEntry<R> } | { lead: true } | { timeout: true; leaseExpiresAt: string | null }> {
  const started = Date.now();
  let delay = 5;
  let leaseExpiresAt: string | null = null;
  while (deadline.remaining() > 0) {
    await new Promise((r) => setTimeout(r, Math.min(delay, deadline.remaining())));
    delay = Math.min(Math.ceil(delay * 1.6), Date.now() - started < 2_000 ? 100 : 250);
    const r = await callRpc<{ status: 'hit' | 'miss' | 'pending'; lease_expires_at?: string | null } & CacheEntry<R>>(
      db,
      'cache_poll',
      rpcArgs(lookupArgs(t)),
    );
    if (r.status === 'hit') return { hit: r };
    if (r.status === 'miss') return { lead: true };
    leaseExpiresAt = r.lease_expires_at ?? null;
  }
  return { timeout: true, leaseExpiresAt };
}
