// `ai-cache stats [--company ID] [--companies N]`: the manage_cache.py report, exact at call
// time (folded daily counters + events not folded yet), per cache type and per company.
import type { Command } from 'commander';
import {
  type CacheStats,
  type CompanyStats,
  type CompanyStatsPage,
  getStats,
  getStatsByCompany,
  type TypeStats,
} from '../api.ts';
import { withContext } from '../context.ts';
import { fmtInt, fmtPct, fmtUsd, keyValues, table } from '../format.ts';
import { intInRange, parseCompanyId } from '../options.ts';

interface StatsOptions {
  company?: string;
  companies: number;
}

const RULE = '='.repeat(60);

export function registerStats(program: Command): void {
  program
    .command('stats')
    .description(
      'entries, uses, hits and misses, hit and reuse rates, tokens and money saved; per cache type and per company',
    )
    .option('--company <id>', 'one company only (default: every company and the global scope)', parseCompanyId)
    .option(
      '--companies <n>',
      'how many companies to list, most hits first (without --company)',
      intInRange(1, 10000),
      10,
    )
    .action(async (opts: StatsOptions, cmd: Command) =>
      withContext(cmd, async (ctx) => {
        const stats = normalizeStats(await getStats(ctx.backend, opts.company));
        const byCompany = opts.company
          ? undefined
          : normalizePage(await getStatsByCompany(ctx.backend, opts.companies));
        if (ctx.json) {
          ctx.printJson(byCompany ? { ...stats, by_company: byCompany } : stats);
          return;
        }
        ctx.print(renderStats(stats, byCompany));
      })
    );
}

export function renderStats(s: CacheStats, byCompany?: CompanyStatsPage): string {
  const title = s.scope === 'company'
    ? `AI CACHE STATISTICS: company ${s.company_id}`
    : 'AI CACHE STATISTICS: all companies and the global scope';
  const lines = [
    title,
    RULE,
    keyValues([
      [
        'Entries in cache',
        `${fmtInt(s.entries)}${s.expired_entries ? ` (${fmtInt(s.expired_entries)} expired, awaiting cleanup)` : ''}`,
      ],
      ['Total uses', fmtInt(s.total_uses)],
      ['Hits / misses', `${fmtInt(s.hits)} / ${fmtInt(s.misses)}`],
      ['Hit rate', fmtPct(s.hit_rate)],
      ['Reuse rate', fmtPct(s.reuse_rate)],
      ['Tokens saved', fmtInt(s.tokens_saved)],
      ['Money saved', fmtUsd(s.cost_saved_usd)],
      ['Upstream calls', `${fmtInt(s.upstream_calls)} (errors: ${fmtInt(s.upstream_errors)})`],
      ['Upstream spend', `${fmtInt(s.upstream_tokens)} tokens, ${fmtUsd(s.upstream_cost_usd)}`],
      [
        'Uncached spend',
        `${fmtInt(s.uncached_calls ?? 0)} calls (no-store, refusals), ${fmtInt(s.uncached_tokens ?? 0)} tokens, ${
          fmtUsd(Number(s.uncached_cost_usd ?? 0))
        }`,
      ],
    ]),
    RULE,
  ];
  if (s.by_type.length) {
    lines.push('', 'By cache type', statsTable('type', s.by_type.map((t) => [t.cache_type, t])));
  }
  if (byCompany && byCompany.companies.length) {
    const shown = byCompany.companies.length;
    lines.push(
      '',
      `By company (${shown < byCompany.scopes ? `top ${shown} of ${byCompany.scopes}` : `${shown}`}, most hits first)`,
      statsTable('company', byCompany.companies.map((c) => [c.company_id ?? 'global', c])),
    );
  }
  lines.push('', 'uses = entries + hits; hit rate = hits / (hits + misses); reuse rate = hits / entries.');
  return lines.join('\n');
}

function statsTable(first: string, rows: Array<[string, Omit<TypeStats, 'cache_type'>]>): string {
  return table(
    [first, 'entries', 'expired', 'uses', 'hits', 'misses', 'hit rate', 'reuse', 'tokens saved', 'saved', 'errors'],
    rows.map(([name, t]) => [
      name,
      fmtInt(t.entries),
      fmtInt(t.expired_entries),
      fmtInt(t.total_uses),
      fmtInt(t.hits),
      fmtInt(t.misses),
      fmtPct(t.hit_rate),
      fmtPct(t.reuse_rate),
      fmtInt(t.tokens_saved),
      fmtUsd(t.cost_saved_usd),
      fmtInt(t.upstream_errors),
    ]),
    ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
}

const KEY_ORDER = [
  'scope',
  'company_id',
  'cache_type',
  'entries',
  'expired_entries',
  'total_uses',
  'hits',
  'misses',
  'hit_rate',
  'reuse_rate',
  'tokens_saved',
  'cost_saved_usd',
  'upstream_calls',
  'upstream_errors',
  'upstream_tokens',
  'upstream_cost_usd',
  'uncached_calls',
  'uncached_tokens',
  'uncached_cost_usd',
] as const;
const TEXT_KEYS = new Set<string>(['scope', 'company_id', 'cache_type']);

/** Numbers as numbers (bigints arrive as strings over the driver), keys in a stable, readable order. */
function ordered<T extends object>(o: T): T {
  const src = o as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of KEY_ORDER) if (k in src) out[k] = TEXT_KEYS.has(k) ? src[k] : Number(src[k]);
  for (const [k, v] of Object.entries(src)) if (!(k in out)) out[k] = v;
  return out as T;
}

function normalizeStats(s: CacheStats): CacheStats {
  return { ...ordered(s), by_type: s.by_type.map(ordered) };
}

function normalizePage(p: CompanyStatsPage): CompanyStatsPage {
  return { scopes: Number(p.scopes), companies: p.companies.map((c: CompanyStats) => ordered(c)) };
}
