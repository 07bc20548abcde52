// Costs are priced from token counts without rounding to the micro-dollar: the database keeps
// 12 decimals, so savings of small answers add up to the token-priced truth.
import { describe, expect, it } from 'vitest';
import { costUsd, priceFor } from '../../supabase/functions/_shared/pricing.ts';

describe('costUsd', () => {
  it('keeps sub-micro-dollar costs exact (1 + 1 gpt-4o-mini tokens = $0.00000075)', () => {
    expect(costUsd('gpt-4o-mini', 1, 1)).toBe(0.00000075);
    expect(costUsd('text-embedding-3-small', 3, 0)).toBe(0.00000006);
  });

  it('sums of many small answers stay within 0.1% of the truth', () => {
    let truth = 0;
    let summed = 0;
    for (let p = 1; p <= 200; p++) {
      const c = 1 + (p % 7);
      truth += (p * 0.1 + c * 0.4) / 1e6;
      summed += costUsd('gpt-4.1-nano', p, c);
    }
    expect(Math.abs(summed - truth) / truth).toBeLessThan(1e-9);
  });

  it('prices dated snapshots like their family and unknown models at 0', () => {
    expect(priceFor('gpt-4o-mini-2024-07-18')).toEqual(priceFor('gpt-4o-mini'));
    expect(costUsd('some-local-model', 1000, 1000)).toBe(0);
  });
});
