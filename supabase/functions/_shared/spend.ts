// Spend of model calls whose answer does not go into the cache (Cache-Control: no-store, or an
// answer that is never cached). cache_store records the calls it stores; these would otherwise
// vanish from the statistics although they were paid for. They count as upstream calls, and
// as `uncached_*` on their own (get_cache_stats, ai-metrics).
import type { SupabaseClient } from '@supabase/supabase-js';
import { callRpc } from './rpc.ts';

export interface UncachedCall {
  /** Scope: a company id, or null for the global scope. */
  companyId: string | null;
  cacheType: string;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

/** Records the call; never throws (a lost statistic must not cost the caller their answer). */
export async function recordUncachedCall(db: SupabaseClient, c: UncachedCall): Promise<void> {
  try {
    await callRpc(db, 'cache_record_call', {
      p_company_id: c.companyId,
      p_cache_type: c.cacheType,
      p_prompt_tokens: c.promptTokens,
      p_completion_tokens: c.completionTokens,
      p_cost_usd: c.costUsd,
    });
  } catch (e) {
    console.error('cache_record_call failed:', e);
  }
}
