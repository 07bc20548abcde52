// Figures per cache type (get_cache_stats.by_type) and per model (entries stored now).
import type { ModelRow, TypeStats } from '../api.ts';
import { count, percent, usd } from '../format.ts';

export function Breakdowns({ byType, byModel }: { byType: TypeStats[]; byModel: ModelRow[] }) {
  return (
    <div className='two'>
      <section aria-labelledby='by-type-title' className='panel'>
        <h2 id='by-type-title'>Per cache type</h2>
        {byType.length === 0 ? <p className='note'>No cache type has entries or traffic yet.</p> : (
          <table>
            <thead>
              <tr>
                <th>Cache type</th>
                <th>Entries</th>
                <th>Hits</th>
                <th>Misses</th>
                <th>Hit rate</th>
                <th>Tokens saved</th>
                <th>Money saved</th>
              </tr>
            </thead>
            <tbody>
              {byType.map((t) => (
                <tr key={t.cache_type}>
                  <td>{t.cache_type}</td>
                  <td>{count(t.entries)}</td>
                  <td>{count(t.hits)}</td>
                  <td>{count(t.misses)}</td>
                  <td>{percent(t.hit_rate)}</td>
                  <td>{count(t.tokens_saved)}</td>
                  <td>{usd(t.cost_saved_usd)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section aria-labelledby='by-model-title' className='panel'>
        <h2 id='by-model-title'>Per model</h2>
        {byModel.length === 0 ? <p className='note'>No entries stored.</p> : (
          <table>
            <thead>
              <tr>
                <th>Model</th>
                <th>Entries</th>
                <th>Expired</th>
                <th>Hits</th>
                <th>Tokens saved</th>
                <th>Money saved</th>
              </tr>
            </thead>
            <tbody>
              {byModel.map((m) => (
                <tr key={m.model}>
                  <td>{m.model}</td>
                  <td>{count(m.entries)}</td>
                  <td>{count(m.expired_entries)}</td>
                  <td>{count(m.hits)}</td>
                  <td>{count(m.tokens_saved)}</td>
                  <td>{usd(m.cost_saved_usd)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p className='note'>Counted over the entries stored now.</p>
      </section>
    </div>
  );
}
