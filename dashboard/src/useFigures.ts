// The chosen company's figures, reloaded on a timer and on demand (after a purge). A failed
// refresh keeps the last figures on screen and says so.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { SupabaseClient } from '@supabase/supabase-js';
import { type CacheStats, type DashboardData, loadCompanyFigures } from './api.ts';

export interface Figures {
  stats: CacheStats;
  dashboard: DashboardData;
  loadedAt: Date;
}

export function useFigures(supabase: SupabaseClient, companyId: string | null, refreshMs: number) {
  const [figures, setFigures] = useState<Figures | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const current = useRef(companyId);
  current.current = companyId;

  const reload = useCallback(async () => {
    if (!companyId) return;
    setLoading(true);
    try {
      const r = await loadCompanyFigures(supabase, companyId);
      if (current.current !== companyId) return; // the admin switched company meanwhile
      setFigures({ ...r, loadedAt: new Date() });
      setError(null);
    } catch (e) {
      if (current.current === companyId) setError((e as Error).message);
    } finally {
      if (current.current === companyId) setLoading(false);
    }
  }, [supabase, companyId]);

  useEffect(() => {
    setFigures(null);
    setError(null);
    void reload();
    if (refreshMs <= 0) return;
    const timer = setInterval(() => void reload(), refreshMs);
    return () => clearInterval(timer);
  }, [reload, refreshMs]);

  return { figures, error, loading, reload };
}
