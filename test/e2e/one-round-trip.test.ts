// A cache hit costs one database round trip on every path, as Server-Timing's `rpc` entry
// counts them: the anonymous ai-suggest hit (rate limit, lookup), the member's ai-suggest hit
// in a company scope (rate limit, membership, lookup), a follow-up ai-chat turn (history, key,
// lookup, the stored turn) and an ai-gateway completion. A miss adds one: the store (within
// AI_CACHE_STORE_WAIT_MS, else after the answer), and the very next identical request is a HIT.
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { createCompany, createUser, FUNCTIONS_URL, marker, simCalls } from '../helpers/stack.ts';
import { SERVICE_TOKEN, suggestHttp } from '../helpers/suggest.ts';

const calls = (h: string | null) => Number(/^rpc;dur=[\d.]+;desc="\w+ x(\d+)"/.exec(h ?? '')?.[1] ?? NaN);

describe('one database round trip per hit', () => {
  it('ai-suggest, anonymous: the rate limit is taken inside the lookup', async () => {
    const description = `${marker('rt-anon')} site vitrine pour un fleuriste`;
    const miss = await suggestHttp({ description_projet: description });
    expect(miss.xcache).toBe('MISS');
    // A miss: the lookup, then the store (waited for, within AI_CACHE_STORE_WAIT_MS).
    expect(calls(miss.res.headers.get('server-timing'))).toBe(2);
    const hit = await suggestHttp({ description_projet: description });
    expect(hit.xcache).toBe('HIT');
    expect(calls(hit.res.headers.get('server-timing'))).toBe(1);
    // The token was taken in that same call: the limiter's state comes back with the hit.
    expect(hit.res.headers.get('x-ratelimit-limit')).toMatch(/^\d+$/);
    expect(hit.res.headers.get('x-ratelimit-remaining')).toMatch(/^\d+$/);
  });

  it('ai-suggest, a member in a company scope: membership is checked inside the lookup too', async () => {
    const member = await createUser('rt-member');
    const outsider = await createUser('rt-outsider');
    const company = await createCompany([[member, 'member']]);
    const body = { description_projet: `${marker('rt-member')} boutique en ligne`, company_id: company };
    expect((await suggestHttp(body, { token: member.jwt })).xcache).toBe('MISS');
    const hit = await suggestHttp(body, { token: member.jwt });
    expect(hit.xcache).toBe('HIT');
    expect(calls(hit.res.headers.get('server-timing'))).toBe(1);
    const refused = await suggestHttp(body, { token: outsider.jwt });
    expect(refused.status).toBe(403);
    expect(refused.json).toMatchObject({ success: false, error: { code: 'forbidden' } });
    expect(refused.xcache).toBeNull();
  });

  it('ai-chat: a follow-up turn reads its history inside chat_turn', async () => {
    const alice = await createUser('rt-alice');
    const bob = await createUser('rt-bob');
    const company = await createCompany([[alice, 'member'], [bob, 'member']]);
    const m = marker('rt-chat');
    const chat = async (user: typeof alice, body: Record<string, unknown>) => {
      const res = await fetch(`${FUNCTIONS_URL}/ai-chat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user.jwt}`, 'content-type': 'application/json' },
        body: JSON.stringify({ company_id: company, ...body }),
      });
      return { res, json: await res.json() };
    };
    // Alice asks twice; Bob asks the same two questions in his own conversation.
    const a1 = await chat(alice, { message: `${m} What is VAT?` });
    const a2 = await chat(alice, { message: `${m} And in France?`, conversation_id: a1.json.conversation_id });
    expect(a2.res.headers.get('x-cache')).toBe('MISS');
    const b1 = await chat(bob, { message: `${m} What is VAT?` });
    expect(b1.res.headers.get('x-cache')).toBe('HIT');
    const b2 = await chat(bob, { message: `${m} And in France?`, conversation_id: b1.json.conversation_id });
    expect(b2.res.headers.get('x-cache')).toBe('HIT');
    expect(b2.json.message).toBe(a2.json.message);
    expect(calls(b2.res.headers.get('server-timing'))).toBe(1);
    // The history is part of the key: the same question without it is another answer.
    const fresh = await chat(bob, { message: `${m} And in France?` });
    expect(fresh.res.headers.get('x-cache')).toBe('MISS');
    expect(await simCalls(m)).toBe(3);
  });

  it('ai-gateway: a completion hit', async () => {
    const user = await createUser('rt-gateway');
    const company = await createCompany([[user, 'member']]);
    const openai = new OpenAI({
      apiKey: user.jwt,
      baseURL: `${FUNCTIONS_URL}/ai-gateway/v1`,
      defaultHeaders: { 'X-Company-Id': company },
      maxRetries: 0,
    });
    const ask = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: `${marker('rt-gw')} hi` }] };
    const miss = await openai.chat.completions.create(ask).withResponse();
    expect(miss.response.headers.get('x-cache')).toBe('MISS');
    expect(calls(miss.response.headers.get('server-timing'))).toBe(2);
    const hit = await openai.chat.completions.create(ask).withResponse();
    expect(hit.response.headers.get('x-cache')).toBe('HIT');
    expect(calls(hit.response.headers.get('server-timing'))).toBe(1);
    expect(hit.data).toEqual(miss.data);
  });
});

describe('a miss is a HIT for the very next request', () => {
  it('ai-suggest, ten times in a row', async () => {
    for (let i = 0; i < 10; i++) {
      const description = `${marker(`rt-next-${i}`)} application mobile de réservation`;
      // The service role: not rate limited, so the shared anonymous bucket of the suites is left alone.
      expect((await suggestHttp({ description_projet: description }, { token: SERVICE_TOKEN })).xcache).toBe('MISS');
      const next = await suggestHttp({ description_projet: description }, { token: SERVICE_TOKEN });
      expect(next.xcache).toBe('HIT');
    }
  });
});
