// Typed calls of the admin RPCs (supabase/migrations/*_admin_rpcs.sql and get_cache_stats).
// Numbers are normalized: a bigint comes back as a string over the database driver and as a
// number over the REST API.
import type { Backend, RpcArgs } from './connect.ts';

/** Which entries a delete or a count applies to; every condition given must hold. */
export interface CacheFilter {
  olderThanSeconds?: number;
  expiredOnly?: boolean;
  companyId?: string;
  globalOnly?: boolean;
  cacheType?: string;
  model?: string;
  keyVersion?: number;
}

// get_cache_stats()'s document is typed once, by the client frontends use.
export type { CacheStats, CacheTypeStats as TypeStats } from '../client/index.ts';
import type { CacheStats, CacheTypeStats as TypeStats } from '../client/index.ts';

export interface CompanyStats extends Omit<TypeStats, 'cache_type'> {
  company_id: string | null;
}

export interface CompanyStatsPage {
  scopes: number;
  companies: CompanyStats[];
}

export interface TopEntry {
  rank: number;
  id: number;
  company_id: string | null;
  cache_type: string;
  model: string;
  key_version: number;
  uses: number;
  hits: number;
  last_hit_at: string | null;
  created_at: string;
  expires_at: string;
  expired: boolean;
  age_seconds: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost_usd: number;
  saved_usd: number;
  prompt: string | null;
}

export function filterArgs(f: CacheFilter): RpcArgs {
  return {
    p_older_than_seconds: f.olderThanSeconds,
    p_expired_only: f.expiredOnly || undefined,
    p_company_id: f.companyId,
    p_global_only: f.globalOnly || undefined,
    p_cache_type: f.cacheType,
    p_model: f.model,
    p_key_version: f.keyVersion,
  };
}

export async function countEntries(b: Backend, f: CacheFilter): Promise<number> {
  return Number(await b.rpc<number | string>('count_cache_entries', filterArgs(f)));
}

export async function deleteBatch(b: Backend, f: CacheFilter, batchSize: number, all: boolean): Promise<number> {
  return Number(
    await b.rpc<number | string>('delete_cache_batch', {
      ...filterArgs(f),
      p_all: all || undefined,
      p_batch_size: batchSize,
    }),
  );
}

export async function getStats(b: Backend, companyId?: string): Promise<CacheStats> {
  return b.rpc<CacheStats>('get_cache_stats', { p_company_id: companyId });
}

export async function getStatsByCompany(b: Backend, limit: number): Promise<CompanyStatsPage> {
  return b.rpc<CompanyStatsPage>('get_cache_stats_by_company', { p_limit: limit });
}

export async function getTopEntries(
  b: Backend,
  opts: { limit: number; companyId?: string; cacheType?: string; globalOnly?: boolean },
): Promise<TopEntry[]> {
  return b.rpc<TopEntry[]>('get_top_cache_entries', {
    p_limit: opts.limit,
    p_company_id: opts.companyId,
    p_cache_type: opts.cacheType,
    p_global_only: opts.globalOnly || undefined,
  });
}

export interface BatchedDeleteResult {
  /** Entries matching the filter when the command started (the progress total). */
  matched: number;
  deleted: number;
  batches: number;
  seconds: number;
  interrupted: boolean;
}

export interface BatchedDeleteOptions {
  batchSize: number;
  /** Required to delete with an empty filter (every entry of every scope). */
  all?: boolean;
  /** Already counted (e.g. for a confirmation prompt): skips the count. */
  matched?: number;
  onStart?: (matched: number) => void;
  onBatch?: (deleted: number, matched: number) => void;
  /** Checked between batches: stop after the batch in flight. */
  shouldStop?: () => boolean;
}

/**
 * Counts, then calls delete_cache_batch until it returns 0: each batch is its own short
 * transaction, so hits keep being served and writers wait at most one batch. What the CLI's
 * clean / clear / purge run, and what bench/cleanup.ts measures.
 */
export async function batchedDelete(
  b: Backend,
  f: CacheFilter,
  opts: BatchedDeleteOptions,
): Promise<BatchedDeleteResult> {
  const t0 = performance.now();
  const matched = opts.matched ?? (await countEntries(b, f));
  opts.onStart?.(matched);
  let deleted = 0;
  let batches = 0;
  let interrupted = false;
  if (matched > 0) {
    for (;;) {
      if (opts.shouldStop?.()) {
        interrupted = true;
        break;
      }
      const n = await deleteBatch(b, f, opts.batchSize, opts.all ?? false);
      batches++;
      deleted += n;
      opts.onBatch?.(deleted, matched);
      if (n === 0) break;
    }
  }
  return { matched, deleted, batches, seconds: (performance.now() - t0) / 1000, interrupted };
}
