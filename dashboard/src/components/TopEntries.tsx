// The most reused entries: metadata only (never the prompt or the answer).
import type { TopEntry } from '../api.ts';
import { age, count, usd } from '../format.ts';

export function TopEntries({ entries }: { entries: TopEntry[] }) {
  return (
    <section aria-labelledby='top-title' className='panel'>
      <h2 id='top-title'>Most reused entries</h2>
      {entries.length === 0 ? <p className='note'>No entries stored for this company.</p> : (
        <table>
          <thead>
            <tr>
              <th>#</th>
              <th>Cache type</th>
              <th>Model</th>
              <th>Uses</th>
              <th>Age</th>
              <th>Tokens</th>
              <th>Cost</th>
              <th>Saved</th>
              <th>State</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id}>
                <td>{e.rank}</td>
                <td>{e.cache_type}</td>
                <td>{e.model}</td>
                <td>{count(e.uses)}</td>
                <td>{age(e.age_seconds)}</td>
                <td>{count(e.total_tokens)}</td>
                <td>{usd(e.cost_usd)}</td>
                <td>{usd(e.saved_usd)}</td>
                <td>{e.expired ? 'expired' : 'fresh'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
