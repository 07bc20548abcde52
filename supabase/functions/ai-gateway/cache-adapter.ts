// The gateway's thin adapter over the shared cache protocol (_shared/cache.ts). The only
// gateway-specific parts are the first round trip (membership + per-type policy + lookup in
// one RPC, gateway_cache_lookup[_many]) and the batch store of embeddings (cache_store_many);
// single-flight (leadOrFollow and its Lease), storing a single answer and recording spend are
// the shared protocol's.
import type { SupabaseClient } from '@supabase/supabase-js';
import type { CacheEntry, CacheTarget, LookupResult } from '../_shared/cache.ts';
import type { CacheControls } from '../_shared/cache-control.ts';
import { CACHE_KEY_VERSION } from '../_shared/cache-key.ts';
import { config } from '../_shared/config.ts';
import { callRpc } from '../_shared/rpc.ts';
import type { GatewayCaller } from './caller.ts';

/** The effective policy of a cache type for the caller's company (private.cache_policy_for). */
export interface Policy {
  cache_type: string;
  ttl_seconds: number | null;
  scope: 'company' | 'global';
  enabled: boolean;
  source: 'company' | 'default' | 'none';
  /** Where entries of this type live for this caller: null = the global scope. */
  company_id: string | null;
}

/** A request's key in each scope it may be stored in; the policy picks one. */
export interface ScopedKeys {
  company: string;
  global: string;
}

/** What the caller asked of the cache, from Cache-Control and the policy. */
export interface CacheUse {
  /** Read the cache (no `no-cache`/`no-store`, policy enabled). */
  read: boolean;
  /** Write the cache (no `no-store`, policy enabled). */
  write: boolean;
  ttlSeconds: number;
}

export function cacheUse(policy: Policy, controls: CacheControls): CacheUse {
  return {
    read: policy.enabled && !controls.noCache && !controls.noStore,
    write: policy.enabled && !controls.noStore,
    // Without a policy row and X-Cache-TTL: AI_GATEWAY_TTL_SECONDS.
    ttlSeconds: controls.ttlSeconds ?? policy.ttl_seconds ?? config().gatewayTtlSeconds,
  };
}

/** Membership, policy and (when `lookup`) cache_lookup with the single-flight lease, in one round trip. */
export function gatewayLookup<R>(
  db: SupabaseClient,
  caller: GatewayCaller,
  keys: ScopedKeys,
  controls: CacheControls,
  leaseOwner: string | null,
): Promise<{ policy: Policy; lookup: LookupResult<R> | null }> {
  return callRpc(db, 'gateway_cache_lookup', {
    p_user_id: caller.userId,
    p_company_id: caller.companyId,
    p_cache_type: caller.cacheType,
    p_company_key: keys.company,
    p_global_key: keys.global,
    p_max_age_seconds: controls.maxAge,
    p_lease_owner: leaseOwner,
    p_lease_ms: config().leaseMs,
    p_lookup: (!controls.noCache && !controls.noStore) || controls.onlyIfCached,
  });
}

/** The shared protocol's target for the scope the policy chose. */
export function targetFor(
  policy: Policy,
  keys: ScopedKeys,
  controls: CacheControls,
  leaseOwner: string | null,
): CacheTarget {
  return {
    companyId: policy.company_id,
    key: policy.company_id === null ? keys.global : keys.company,
    type: policy.cache_type,
    maxAgeSeconds: controls.maxAge,
    leaseOwner,
    leaseMs: config().leaseMs,
  };
}

export type ItemLookup<R> = ({ status: 'hit' } & CacheEntry<R>) | { status: 'miss'; stale: CacheEntry<R> | null };

/** Membership, policy and one lookup per item, in one round trip. `items` is null when nothing was read. */
export function gatewayLookupMany<R>(
  db: SupabaseClient,
  caller: GatewayCaller,
  keys: ScopedKeys[],
  controls: CacheControls,
): Promise<{ policy: Policy; items: ItemLookup<R>[] | null }> {
  return callRpc(db, 'gateway_cache_lookup_many', {
    p_user_id: caller.userId,
    p_company_id: caller.companyId,
    p_cache_type: caller.cacheType,
    p_company_keys: keys.map((k) => k.company),
    p_global_keys: keys.map((k) => k.global),
    p_max_age_seconds: controls.maxAge,
    p_lookup: (!controls.noCache && !controls.noStore) || controls.onlyIfCached,
  });
}

export interface StoreItem {
  cache_key: string;
  request: unknown;
  result: unknown;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
}

/** Stores the entries one upstream call produced through cache_store, in one round trip (idempotent upserts: retried once). */
export function storeMany(
  db: SupabaseClient,
  policy: Policy,
  model: string,
  items: StoreItem[],
  ttlSeconds: number,
): Promise<number> {
  return callRpc(db, 'cache_store_many', {
    p_company_id: policy.company_id,
    p_cache_type: policy.cache_type,
    p_model: model,
    p_items: items,
    p_ttl_seconds: ttlSeconds,
    p_key_version: CACHE_KEY_VERSION,
  }, 2);
}
