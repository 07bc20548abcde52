// `ai-cache top [-n 10] [--company ID | --global] [--type T]`: the most used entries, with their
// stored prompt (when prompt storage is on), type, uses (1 + hits, unfolded hits included), age.
import type { Command } from 'commander';
import { getTopEntries, type TopEntry } from '../api.ts';
import { withContext } from '../context.ts';
import { fmtAge, fmtInt, fmtUsd, oneLine, table } from '../format.ts';
import {
  describeFilter,
  intInRange,
  parseCacheType,
  parseCompanyId,
  scopeFilter,
  type ScopeOptions,
} from '../options.ts';

interface TopOptions extends ScopeOptions {
  limit: number;
}

export function registerTop(program: Command): void {
  program
    .command('top')
    .description('the most used entries: uses, type, model, age, money saved and the stored prompt')
    .option('-n, --limit <n>', 'how many entries', intInRange(1, 1000), 10)
    .option('--company <id>', 'one company only', parseCompanyId)
    .option('--global', 'the global scope only (entries shared by every company)')
    .option('--type <type>', 'one cache type only (chat, suggestions, ...)', parseCacheType)
    .action(async (opts: TopOptions, cmd: Command) =>
      withContext(cmd, async (ctx) => {
        const f = scopeFilter(opts);
        const entries = (await getTopEntries(ctx.backend, {
          limit: opts.limit,
          companyId: f.companyId,
          cacheType: f.cacheType,
          globalOnly: f.globalOnly,
        })).map(normalize);
        if (ctx.json) {
          ctx.printJson({
            limit: opts.limit,
            filter: {
              company_id: f.companyId ?? null,
              global_only: Boolean(f.globalOnly),
              cache_type: f.cacheType ?? null,
            },
            entries,
          });
          return;
        }
        ctx.print(`Top ${opts.limit} cache entries (${describeFilter(f)}), most used first`);
        if (entries.length === 0) {
          ctx.print('no entries');
          return;
        }
        ctx.print(renderTop(entries, process.stdout.isTTY ? process.stdout.columns ?? 120 : 120));
      })
    );
}

export function renderTop(entries: TopEntry[], columns: number): string {
  const rows = entries.map((e) => [
    String(e.rank),
    fmtInt(e.uses),
    e.cache_type,
    e.model,
    `${fmtAge(e.age_seconds)}${e.expired ? ' (expired)' : ''}`,
    e.company_id ? e.company_id.slice(0, 8) : 'global',
    fmtUsd(e.saved_usd),
    '',
  ]);
  const headers = ['#', 'uses', 'type', 'model', 'age', 'company', 'saved', 'prompt'];
  // The prompt gets what is left of the line.
  const fixed = headers.slice(0, -1).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const room = Math.max(20, columns - fixed.reduce((a, b) => a + b + 2, 0));
  entries.forEach((e, i) => {
    rows[i][7] = e.prompt === null ? '(prompt not stored)' : oneLine(e.prompt, room);
  });
  return table(headers, rows, ['right', 'right', 'left', 'left', 'left', 'left', 'right', 'left']);
}

/** Numbers as numbers, keys in a stable, readable order. */
function normalize(e: TopEntry): TopEntry {
  return {
    rank: Number(e.rank),
    id: Number(e.id),
    company_id: e.company_id,
    cache_type: e.cache_type,
    model: e.model,
    key_version: Number(e.key_version),
    uses: Number(e.uses),
    hits: Number(e.hits),
    age_seconds: Number(e.age_seconds),
    created_at: e.created_at,
    expires_at: e.expires_at,
    expired: e.expired,
    last_hit_at: e.last_hit_at,
    prompt_tokens: Number(e.prompt_tokens),
    completion_tokens: Number(e.completion_tokens),
    total_tokens: Number(e.total_tokens),
    cost_usd: Number(e.cost_usd),
    saved_usd: Number(e.saved_usd),
    prompt: e.prompt,
  };
}
