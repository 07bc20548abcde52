// Everything the dashboard reads and writes, through supabase-js under the signed-in user's
// session: RLS and the RPCs get_dashboard_companies, get_cache_stats, get_cache_dashboard and
// purge_company_cache. No service key is ever involved.
import type { SupabaseClient } from '@supabase/supabase-js';

export interface Company {
  company_id: string;
  role: string;
  is_admin: boolean;
  name: string | null;
}

// get_cache_stats' shape is the typed client's: one definition for every TypeScript reader.
export type { CacheStats, CacheTypeStats as TypeStats } from '../../src/client/index.ts';
import type { CacheStats } from '../../src/client/index.ts';

export interface DailyRow {
  day: string;
  hits: number;
  misses: number;
  tokens_saved: number;
  cost_saved_usd: number;
  upstream_calls: number;
  upstream_cost_usd: number;
}
export interface ModelRow {
  model: string;
  entries: number;
  expired_entries: number;
  hits: number;
  tokens_saved: number;
  cost_saved_usd: number;
}
export interface TopEntry {
  rank: number;
  id: number;
  cache_type: string;
  model: string;
  uses: number;
  hits: number;
  age_seconds: number;
  created_at: string;
  last_hit_at: string | null;
  expires_at: string;
  expired: boolean;
  total_tokens: number;
  cost_usd: number;
  saved_usd: number;
}
export interface ContextRow {
  context_type: string;
  conversations: number;
  messages: number;
  assistant_messages: number;
  cached_answers: number;
  cached_share: number;
}
export interface CleanupJob {
  job: string;
  schedule: string;
  active: boolean;
  last_run_at: string | null;
  last_status: string | null;
  last_success_at: string | null;
}

/** get_cache_dashboard(p_company_id). */
export interface DashboardData {
  generated_at: string;
  daily: DailyRow[];
  by_model: ModelRow[];
  top_entries: TopEntry[];
  conversations: { conversations: number; messages: number; by_context: ContextRow[] };
  cleanup: CleanupJob | null;
}

export class ApiError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

async function rpc<T>(supabase: SupabaseClient, fn: string, args?: Record<string, unknown>): Promise<T> {
  const { data, error } = await supabase.rpc(fn, args);
  if (error) throw new ApiError(error.message, error.code);
  return data as T;
}

export const loadCompanies = (s: SupabaseClient) => rpc<Company[]>(s, 'get_dashboard_companies');

export async function loadCompanyFigures(s: SupabaseClient, companyId: string) {
  const [stats, dashboard] = await Promise.all([
    rpc<CacheStats>(s, 'get_cache_stats', { p_company_id: companyId }),
    rpc<DashboardData>(s, 'get_cache_dashboard', { p_company_id: companyId, p_days: 30, p_top: 10 }),
  ]);
  return { stats, dashboard };
}

export type PurgeTarget = { kind: 'type' | 'model'; value: string };

export const purge = (s: SupabaseClient, companyId: string, target: PurgeTarget) =>
  rpc<number>(s, 'purge_company_cache', {
    p_company_id: companyId,
    p_cache_type: target.kind === 'type' ? target.value : null,
    p_model: target.kind === 'model' ? target.value : null,
  });
