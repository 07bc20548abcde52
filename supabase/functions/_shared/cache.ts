// The cache protocol over the hot-path RPCs: lookup (with the single-flight lease), waiting on
// another caller's lease, storing and releasing. One shape for every function that caches.
import type { SupabaseClient } from '@supabase/supabase-js';
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
  | { status: 'miss'; stale: (CacheEntry<R> & { expired: boolean }) | null; lease: 'acquired' | 'held' | null; lease_expires_at: string | null };

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

export function lookup<R>(db: SupabaseClient, t: CacheTarget): Promise<LookupResult<R>> {
  return callRpc(db, 'cache_lookup', rpcArgs(lookupArgs(t)));
}

export function store(db: SupabaseClient, t: CacheTarget, s: StoreRequest): Promise<{ id: number }> {
  return callRpc(db, 'cache_store', rpcArgs(storeArgs(t, s)), 2);
}

/** Gives the lease back; with `failed`, records an upstream error for the metrics. Never throws. */
export async function releaseLease(db: SupabaseClient, t: CacheTarget, failed: boolean): Promise<void> {
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

/**
 * Another caller holds the lease for this key: poll with backoff until its answer is stored
 * (a COALESCED hit) or the lease frees up without an answer (we lead now). Gives up at the
 * deadline by leading: a stuck leader never blocks callers forever.
 */
export async function awaitLeader<R>(db: SupabaseClient, t: CacheTarget, deadlineMs: number): Promise<{ hit: CacheEntry<R> } | { lead: true }> {
  let delay = 5;
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(Math.ceil(delay * 1.6), 100);
    const r = await callRpc<{ status: 'hit' | 'miss' | 'pending' } & CacheEntry<R>>(db, 'cache_poll', rpcArgs(lookupArgs(t)));
    if (r.status === 'hit') return { hit: r };
    if (r.status === 'miss') return { lead: true };
  }
  return { lead: true };
}
