// Hits, misses and money saved per UTC day over the last 30 days.
import { Bar, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { DailyRow } from '../api.ts';
import { usd } from '../format.ts';

export function TrendChart({ daily }: { daily: DailyRow[] }) {
  const data = daily.map((d) => ({ ...d, day: d.day.slice(5), cost_saved_usd: Number(d.cost_saved_usd) }));
  const quiet = daily.every((d) => d.hits + d.misses === 0);
  return (
    <section aria-labelledby='trend-title' className='panel'>
      <h2 id='trend-title'>Last 30 days</h2>
      {quiet && <p className='note'>No lookups in the last 30 days.</p>}
      <div className='chart' role='img' aria-label='Daily hits, misses and money saved over the last 30 days'>
        <ResponsiveContainer width='100%' height={260}>
          <ComposedChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray='3 3' stroke='#e5e7eb' />
            <XAxis dataKey='day' fontSize={11} />
            <YAxis yAxisId='n' allowDecimals={false} fontSize={11} />
            <YAxis yAxisId='usd' orientation='right' fontSize={11} tickFormatter={(v: number) => usd(v)} />
            <Tooltip formatter={(v, name) => (name === 'Money saved' ? usd(Number(v)) : v)} />
            <Legend />
            <Bar yAxisId='n' dataKey='hits' name='Hits' stackId='lookups' fill='#16a34a' isAnimationActive={false} />
            <Bar
              yAxisId='n'
              dataKey='misses'
              name='Misses'
              stackId='lookups'
              fill='#f59e0b'
              isAnimationActive={false}
            />
            <Line
              yAxisId='usd'
              dataKey='cost_saved_usd'
              name='Money saved'
              stroke='#2563eb'
              dot={false}
              isAnimationActive={false}
            />
          </ComposedChart>
        </ResponsiveContainer>
      </div>
    </section>
  );
}
