// The monitoring dashboard as a component: give it a supabase-js client with a signed-in
// user's session. It shows the cache figures of the companies that user administers.
import { useEffect, useState } from 'react';
import type { SupabaseClient } from '@supabase/supabase-js';
import { type Company, loadCompanies } from './api.ts';
import { useFigures } from './useFigures.ts';
import { Cards } from './components/Cards.tsx';
import { TrendChart } from './components/TrendChart.tsx';
import { Breakdowns } from './components/Breakdowns.tsx';
import { TopEntries } from './components/TopEntries.tsx';
import { Conversations } from './components/Conversations.tsx';
import { CleanupHealth } from './components/CleanupHealth.tsx';
import { PurgeForm } from './components/PurgeForm.tsx';

export interface CacheDashboardProps {
  supabase: SupabaseClient;
  /** Reload the figures this often (default 15 s; 0 = only on demand). */
  refreshMs?: number;
}

export function companyLabel(c: Company) {
  return c.name ? `${c.name} (${c.company_id})` : c.company_id;
}

export function CacheDashboard({ supabase, refreshMs = 15_000 }: CacheDashboardProps) {
  const [companies, setCompanies] = useState<Company[] | null>(null);
  const [companiesError, setCompaniesError] = useState<string | null>(null);
  const [companyId, setCompanyId] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    setCompaniesError(null);
    loadCompanies(supabase).then(
      (list) => {
        setCompanies(list);
        setCompanyId((id) => id ?? list.find((c) => c.is_admin)?.company_id ?? null);
      },
      (e: Error) => setCompaniesError(e.message),
    );
  }, [supabase, attempt]);

  const { figures, error, loading, reload } = useFigures(supabase, companyId, refreshMs);

  if (companiesError) {
    return (
      <main className='page'>
        <div role='alert' className='error'>
          <p>Could not load your companies: {companiesError}</p>
          <p>Check that the project is reachable and that you are still signed in, then try again.</p>
          <button type='button' onClick={() => setAttempt((n) => n + 1)}>Try again</button>
        </div>
      </main>
    );
  }
  if (!companies) {
    return (
      <main className='page'>
        <p role='status'>Loading your companies…</p>
      </main>
    );
  }

  const admin = companies.filter((c) => c.is_admin);
  if (admin.length === 0) {
    return (
      <main className='page narrow'>
        <h1>Admins only</h1>
        <p>
          This dashboard shows a company's cache figures to its owners and admins. {companies.length === 0
            ? 'Your account does not belong to any company yet.'
            : 'Your account is a member, not an admin, of its companies.'}
        </p>
        <p>Ask an owner of your company to make you an admin, then reload this page.</p>
      </main>
    );
  }

  const stats = figures?.stats;
  const dashboard = figures?.dashboard;
  const empty = stats && stats.entries === 0 && stats.hits + stats.misses === 0 && stats.upstream_calls === 0;

  return (
    <main className='page'>
      <div className='toolbar'>
        <h1>Cache figures</h1>
        <label htmlFor='company'>Company</label>
        <select id='company' value={companyId ?? ''} onChange={(e) => setCompanyId(e.target.value)}>
          {admin.map((c) => <option key={c.company_id} value={c.company_id}>{companyLabel(c)}</option>)}
        </select>
        <span className='status' role='status'>
          {loading ? 'Refreshing…' : figures ? `Updated ${figures.loadedAt.toLocaleTimeString()}` : ''}
        </span>
        <button type='button' onClick={() => void reload()}>Refresh</button>
      </div>

      {error && (
        <div role='alert' className='error'>
          <p>Could not load the figures: {error}</p>
          <p>
            {figures ? 'The figures below are from the last successful load. ' : ''}Check your connection and that you
            are still an admin of this company; the page retries on its own.
          </p>
        </div>
      )}
      {!figures && !error && <p role='status'>Loading figures…</p>}

      {stats && dashboard && (
        <>
          {empty && (
            <p className='note'>
              No cache traffic yet for this company. Figures appear as soon as the app calls the ai-chat or ai-suggest
              function with this company's id.
            </p>
          )}
          <Cards stats={stats} />
          <TrendChart daily={dashboard.daily} />
          <Breakdowns byType={stats.by_type} byModel={dashboard.by_model} />
          <TopEntries entries={dashboard.top_entries} />
          <Conversations conversations={dashboard.conversations} />
          <CleanupHealth job={dashboard.cleanup} />
          <PurgeForm
            supabase={supabase}
            companyId={companyId!}
            types={stats.by_type.filter((t) => t.entries > 0).map((t) => t.cache_type)}
            models={dashboard.by_model.map((m) => m.model)}
            onPurged={reload}
          />
        </>
      )}
    </main>
  );
}
