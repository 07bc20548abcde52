// The headline figures, straight from get_cache_stats for the chosen company.
import type { CacheStats } from '../api.ts';
import { count, percent, usd } from '../format.ts';

interface Card {
  label: string;
  value: string;
  raw: number;
  note?: string;
}

export function Cards({ stats }: { stats: CacheStats }) {
  const requests = stats.hits + stats.misses;
  const cards: Card[] = [
    { label: 'Hit rate', value: percent(stats.hit_rate), raw: stats.hit_rate, note: 'hits ÷ (hits + misses)' },
    { label: 'Requests', value: count(requests), raw: requests, note: 'cache lookups' },
    { label: 'Hits', value: count(stats.hits), raw: stats.hits },
    { label: 'Misses', value: count(stats.misses), raw: stats.misses },
    {
      label: 'Entries',
      value: count(stats.entries),
      raw: stats.entries,
      note: `${stats.expired_entries} expired, awaiting cleanup`,
    },
    { label: 'Tokens saved', value: count(stats.tokens_saved), raw: stats.tokens_saved },
    { label: 'Money saved', value: usd(stats.cost_saved_usd), raw: Number(stats.cost_saved_usd) },
    {
      label: 'Upstream calls',
      value: count(stats.upstream_calls),
      raw: stats.upstream_calls,
      note: 'calls to the model',
    },
    {
      label: 'Spend',
      value: usd(stats.upstream_cost_usd),
      raw: Number(stats.upstream_cost_usd),
      note: `${stats.upstream_tokens} tokens`,
    },
    { label: 'Errors', value: count(stats.upstream_errors), raw: stats.upstream_errors, note: 'failed model calls' },
  ];
  return (
    <section aria-label='Figures' className='cards'>
      {cards.map((c) => {
        const id = `card-${c.label.toLowerCase().replace(/\s+/g, '-')}`;
        return (
          <div key={c.label} className='card' role='group' aria-labelledby={id} data-testid={id}>
            <div id={id} className='card-label'>{c.label}</div>
            <div className='card-value' data-value={c.raw}>{c.value}</div>
            {c.note && <div className='card-note'>{c.note}</div>}
          </div>
        );
      })}
    </section>
  );
}
