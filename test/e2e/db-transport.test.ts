// Which transport the running functions use for their RPCs, as Server-Timing reports it. `npm
// test` runs the end-to-end suites twice: with the default (auto: the direct Postgres pool, since
// the local stack hands functions SUPABASE_DB_URL) and with AI_CACHE_DB_TRANSPORT=rest.
import { describe, expect, it } from 'vitest';
import { createCompany, createUser, FUNCTIONS_URL, marker } from '../helpers/stack.ts';
import { suggestHttp } from '../helpers/suggest.ts';

const expected = (process.env.AI_CACHE_DB_TRANSPORT ?? 'auto') === 'rest' ? 'rest' : 'postgres';
const rpcEntry = (h: string | null) => /^rpc;dur=([\d.]+);desc="(\w+) x(\d+)"/.exec(h ?? '');

describe(`database calls go over ${expected}`, () => {
  it('ai-suggest reports its database calls and their transport, on a miss and on a hit', async () => {
    const description = `${marker('transport')} site vitrine pour une boulangerie`;
    for (const want of ['MISS', 'HIT']) {
      const r = await suggestHttp({ description_projet: description });
      expect(r.status).toBe(200);
      expect(r.xcache).toBe(want);
      const m = rpcEntry(r.res.headers.get('server-timing'));
      expect(m?.[2]).toBe(expected);
      expect(Number(m?.[3])).toBeGreaterThan(0);
    }
  });

  it('ai-chat reports its database calls and their transport', async () => {
    const user = await createUser('transport');
    const company = await createCompany([[user, 'member']]);
    const res = await fetch(`${FUNCTIONS_URL}/ai-chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.jwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({ company_id: company, message: `${marker('transport')} hello` }),
    });
    await res.text();
    expect(res.status).toBe(200);
    const m = rpcEntry(res.headers.get('server-timing'));
    expect(m?.[2]).toBe(expected);
    expect(Number(m?.[3])).toBeGreaterThan(0);
  });
});
