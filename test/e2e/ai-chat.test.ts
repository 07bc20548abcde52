// ai-chat end to end over HTTP, as a frontend calls it: real user JWTs, the gateway, the Deno
// function, the REST API, Postgres, and the simulated model counting upstream calls.
import { FunctionsHttpError } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminSql,
  ANON_KEY,
  closeAdminSql,
  createCompany,
  createUser,
  FUNCTIONS_URL,
  marker,
  simCalls,
  simFault,
  type TestUser,
} from '../helpers/stack.ts';

let alice: TestUser;
let bob: TestUser;
let mallory: TestUser;
let companyA: string;
let companyB: string;

beforeAll(async () => {
  alice = await createUser('alice');
  bob = await createUser('bob');
  mallory = await createUser('mallory');
  companyA = await createCompany([[alice, 'member'], [bob, 'member']]);
  companyB = await createCompany([[mallory, 'owner']]);
});

afterAll(async () => {
  await closeAdminSql();
});

interface ChatReply {
  conversation_id: string;
  message_id: string;
  message: string;
  from_cache: boolean;
  cache: string;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

async function chat(user: TestUser, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await fetch(`${FUNCTIONS_URL}/ai-chat`, {
    method: 'POST',
    headers: { authorization: `Bearer ${user.jwt}`, apikey: ANON_KEY, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return {
    res,
    status: res.status,
    xcache: res.headers.get('x-cache'),
    age: res.headers.get('age'),
    json: text ? JSON.parse(text) : null,
  };
}

async function readSse(res: Response) {
  const text = await res.text();
  const events = text.split('\n\n').filter(Boolean).map((e) => e.replace(/^data: /, ''));
  const done = events.at(-1) === '[DONE]';
  const chunks = events.filter((e) => e !== '[DONE]').map((e) => JSON.parse(e));
  const content = chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join('');
  return { done, chunks, content, last: chunks.at(-1) };
}

const entryCount = async (companyId: string, m: string) =>
  Number(
    (await adminSql()`select count(*)::int as n from public.ai_cache where company_id = ${companyId} and request::text like ${
      '%' + m + '%'
    }`)[0].n,
  );

describe('ai-chat: cache through RPC before the model', () => {
  it('answers a miss from the model, then the same question from the cache without a second upstream call', async () => {
    const m = marker('vat');
    const first = await chat(alice, { company_id: companyA, message: `What is VAT? ${m}` });
    expect(first.status).toBe(200);
    expect(first.xcache).toBe('MISS');
    expect(first.json).toMatchObject({ from_cache: false, cache: 'MISS' });
    expect(first.json.message).toContain(m);
    expect(first.json.usage.total_tokens).toBeGreaterThan(0);
    expect(first.res.headers.get('server-timing')).toMatch(
      /db;dur=[\d.]+, model;dur=[\d.]+, store;dur=[\d.]+, total;dur=[\d.]+$/,
    );
    expect(await simCalls(m)).toBe(1);

    // Another member of the same company, in a new conversation: same canonical request.
    const second = await chat(bob, { company_id: companyA, message: `What   is VAT? ${m}` });
    expect(second.status).toBe(200);
    expect(second.xcache).toBe('HIT');
    expect(Number(second.age)).toBeGreaterThanOrEqual(0);
    expect(second.json).toMatchObject({ from_cache: true, cache: 'HIT', message: first.json.message });
    expect(second.json.usage).toEqual(first.json.usage);
    expect(second.res.headers.get('server-timing')).not.toContain('model;');
    expect(await simCalls(m)).toBe(1);
  });

  it('works through supabase.functions.invoke unchanged', async () => {
    const m = marker('invoke');
    const { data, error } = await alice.client.functions.invoke('ai-chat', {
      body: { company_id: companyA, message: `Hello ${m}` },
    });
    expect(error).toBeNull();
    expect(data).toMatchObject({ from_cache: false });
    const again = await alice.client.functions.invoke('ai-chat', {
      body: { company_id: companyA, message: `Hello ${m}` },
    });
    expect(again.data).toMatchObject({ from_cache: true, message: data.message });
  });

  it('never shares an answer across companies', async () => {
    const m = marker('iso');
    await chat(alice, { company_id: companyA, message: `Secret plan ${m}` });
    const other = await chat(mallory, { company_id: companyB, message: `Secret plan ${m}` });
    expect(other.json.from_cache).toBe(false);
    expect(await simCalls(m)).toBe(2);
  });
});

describe('ai-chat: Cache-Control', () => {
  it('no-cache skips the lookup but stores the fresh answer (BYPASS)', async () => {
    const m = marker('nocache');
    await chat(alice, { company_id: companyA, message: m });
    const r = await chat(alice, { company_id: companyA, message: m }, { 'cache-control': 'no-cache' });
    expect(r.xcache).toBe('BYPASS');
    expect(r.json.from_cache).toBe(false);
    expect(await simCalls(m)).toBe(2);
    expect((await chat(alice, { company_id: companyA, message: m })).xcache).toBe('HIT');
  });

  it('no-store neither reads nor writes', async () => {
    const m = marker('nostore');
    const r = await chat(alice, { company_id: companyA, message: m }, { 'cache-control': 'no-store' });
    expect(r.xcache).toBe('BYPASS');
    expect(await entryCount(companyA, m)).toBe(0);
    expect((await chat(alice, { company_id: companyA, message: m })).xcache).toBe('MISS');
    expect(await simCalls(m)).toBe(2);
  });

  it('max-age=N accepts only entries younger than N seconds', async () => {
    const m = marker('maxage');
    await chat(alice, { company_id: companyA, message: m });
    await adminSql()`update public.ai_cache set created_at = now() - interval '120 seconds' where company_id = ${companyA} and request::text like ${
      '%' + m + '%'
    }`;
    const fresh = await chat(alice, { company_id: companyA, message: m }, { 'cache-control': 'max-age=600' });
    expect(fresh.xcache).toBe('HIT');
    expect(Number(fresh.age)).toBeGreaterThanOrEqual(120);
    const tooOld = await chat(alice, { company_id: companyA, message: m }, { 'cache-control': 'max-age=60' });
    expect(tooOld.xcache).toBe('MISS');
    expect(await simCalls(m)).toBe(2);
  });

  it('only-if-cached answers 504 on a miss without calling the model, and the entry on a hit', async () => {
    const m = marker('oic');
    const miss = await chat(alice, { company_id: companyA, message: m }, { 'cache-control': 'only-if-cached' });
    expect(miss.status).toBe(504);
    expect(miss.json.error.code).toBe('not_cached');
    expect(await simCalls(m)).toBe(0);
    await chat(alice, { company_id: companyA, message: m });
    const hit = await chat(alice, { company_id: companyA, message: m }, { 'cache-control': 'only-if-cached' });
    expect(hit.status).toBe(200);
    expect(hit.xcache).toBe('HIT');
  });

  it('X-Cache-TTL sets how long the entry lives', async () => {
    const m = marker('ttl');
    await chat(alice, { company_id: companyA, message: m }, { 'x-cache-ttl': '90' });
    const [row] =
      await adminSql()`select extract(epoch from expires_at - created_at)::int as ttl from public.ai_cache where company_id = ${companyA} and request::text like ${
        '%' + m + '%'
      }`;
    expect(row.ttl).toBe(90);
  });
});

describe('ai-chat: conversations', () => {
  it('creates a conversation, continues it, and keeps every message in order with counts', async () => {
    const m = marker('conv');
    const first = await chat(alice, { company_id: companyA, message: `First ${m}`, context_type: 'accounting' });
    const id = first.json.conversation_id;
    const second = await chat(alice, { company_id: companyA, conversation_id: id, message: `Second ${m}` });
    expect(second.json.conversation_id).toBe(id);

    const { data: conv, error } = await alice.client.from('ai_conversations').select(
      'id, message_count, context_type, user_id, company_id',
    ).eq('id', id).single();
    expect(error).toBeNull();
    expect(conv).toMatchObject({
      id,
      message_count: 4,
      context_type: 'accounting',
      user_id: alice.id,
      company_id: companyA,
    });

    const { data: msgs } = await alice.client.from('ai_messages').select(
      'role, content, from_cache, tokens_used, model',
    ).eq('conversation_id', id).order('created_at').order('seq');
    expect(msgs!.map((x) => x.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(msgs![0].content).toBe(`First ${m}`);
    expect(msgs![1]).toMatchObject({ content: first.json.message, from_cache: false, model: 'gpt-4o-mini' });
    expect(msgs![1].tokens_used).toBe(first.json.usage.total_tokens);
    // The second turn's prompt carried the history, so the model saw both user messages.
    expect(second.json.message).toContain(`Second ${m}`);
  });

  it('stores a cache hit as an assistant message marked from_cache', async () => {
    const m = marker('hitmsg');
    await chat(alice, { company_id: companyA, message: m });
    const hit = await chat(bob, { company_id: companyA, message: m });
    const { data: msgs } = await bob.client.from('ai_messages').select('role, from_cache, tokens_used').eq(
      'conversation_id',
      hit.json.conversation_id,
    ).order('seq');
    expect(msgs).toEqual([
      { role: 'user', from_cache: false, tokens_used: null },
      { role: 'assistant', from_cache: true, tokens_used: 0 },
    ]);
  });

  it('answers 404 for a conversation of another user or company, and writes nothing', async () => {
    const mine = await chat(alice, { company_id: companyA, message: marker('own') });
    const m = marker('steal');
    const bobTry = await chat(bob, { company_id: companyA, conversation_id: mine.json.conversation_id, message: m });
    expect(bobTry.status).toBe(404);
    expect(bobTry.json.error.code).toBe('not_found');
    const [{ n }] = await adminSql()`select count(*)::int as n from public.ai_messages where content = ${m}`;
    expect(n).toBe(0);
    expect(await simCalls(m)).toBe(0);
  });
});

describe('ai-chat: auth and validation', () => {
  it('refuses a company the user does not belong to (403) before any cache or model access', async () => {
    const m = marker('spoof');
    // Mallory's company has the answer cached; Alice claims to be Mallory's company.
    await chat(mallory, { company_id: companyB, message: m });
    const spoof = await chat(alice, { company_id: companyB, message: m });
    expect(spoof.status).toBe(403);
    expect(spoof.json.error.code).toBe('forbidden');
    expect(JSON.stringify(spoof.json)).not.toContain('Simulated answer');
    const [{ n }] =
      await adminSql()`select count(*)::int as n from public.ai_conversations where user_id = ${alice.id} and company_id = ${companyB}`;
    expect(n).toBe(0);
    expect(await simCalls(m)).toBe(1);
  });

  it('requires a signed-in user: no token, the anon key and a forged token are 401', async () => {
    const noAuth = await fetch(`${FUNCTIONS_URL}/ai-chat`, { method: 'POST', body: '{}' });
    expect(noAuth.status).toBe(401);
    const anon = await fetch(`${FUNCTIONS_URL}/ai-chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ANON_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ company_id: companyA, message: 'hi' }),
    });
    expect(anon.status).toBe(401);
    expect((await anon.json()).error.code).toBe('unauthorized');
  });

  it('answers a bad body with a 400 JSON error and writes nothing', async () => {
    const m = marker('bad');
    const cases: Array<[Record<string, unknown> | string, number]> = [
      [{ company_id: companyA }, 400],
      [{ company_id: 'not-a-uuid', message: m }, 400],
      [{ company_id: companyA, message: '   ' }, 400],
      [{ company_id: companyA, message: m, context_type: 'astrology' }, 400],
      [{ company_id: companyA, message: m, model: 'gpt-9-ultra' }, 400],
      [{ company_id: companyA, message: m, extra: true }, 400],
      ['{not json', 400],
      [{ company_id: companyA, message: 'x'.repeat(70_000) }, 413],
    ];
    for (const [body, status] of cases) {
      const res = await fetch(`${FUNCTIONS_URL}/ai-chat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice.jwt}`, 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      const json = await res.json();
      expect(json.error.code).toEqual(expect.any(String));
      expect(json.error.message).toEqual(expect.any(String));
    }
    const [{ n }] =
      await adminSql()`select count(*)::int as n from public.ai_messages m join public.ai_conversations c on c.id = m.conversation_id where c.user_id = ${alice.id} and m.content like ${
        '%' + m + '%'
      }`;
    expect(n).toBe(0);
    expect(await simCalls(m)).toBe(0);
  });

  it('surfaces errors to supabase-js as FunctionsHttpError with the JSON body', async () => {
    const { error } = await alice.client.functions.invoke('ai-chat', { body: { company_id: companyB, message: 'x' } });
    expect(error).toBeInstanceOf(FunctionsHttpError);
    const body = await (error as FunctionsHttpError).context.json();
    expect(body.error.code).toBe('forbidden');
  });
});

describe('ai-chat: streaming', () => {
  it('streams a miss as OpenAI-style SSE, stores it, and replays a hit as a stream', async () => {
    const m = marker('stream');
    const res = await fetch(`${FUNCTIONS_URL}/ai-chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.jwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({ company_id: companyA, message: `Stream me ${m}`, stream: true }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(res.headers.get('x-cache')).toBe('MISS');
    const miss = await readSse(res);
    expect(miss.done).toBe(true);
    expect(miss.content).toContain(m);
    expect(miss.last).toMatchObject({ object: 'chat.completion.chunk', choices: [], from_cache: false });
    expect(miss.last.usage.total_tokens).toBeGreaterThan(0);

    const plain = await chat(bob, { company_id: companyA, message: `Stream me ${m}` });
    expect(plain.xcache).toBe('HIT');
    expect(plain.json.message).toBe(miss.content);

    const replay = await fetch(`${FUNCTIONS_URL}/ai-chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bob.jwt}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ company_id: companyA, message: `Stream me ${m}` }),
    });
    expect(replay.headers.get('x-cache')).toBe('HIT');
    const hit = await readSse(replay);
    expect(hit.done).toBe(true);
    expect(hit.content).toBe(miss.content);
    expect(hit.last.from_cache).toBe(true);
    expect(await simCalls(m)).toBe(1);

    const { data: msgs } = await alice.client.from('ai_messages').select('role, content').eq(
      'conversation_id',
      miss.chunks[0].conversation_id,
    ).order('seq');
    expect(msgs).toEqual([{ role: 'user', content: `Stream me ${m}` }, { role: 'assistant', content: miss.content }]);
  });

  it('never caches a stream cut midway', async () => {
    const m = marker('cut');
    await simFault({ type: 'cut_stream', afterChunks: 2, match: m });
    const res = await fetch(`${FUNCTIONS_URL}/ai-chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.jwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({ company_id: companyA, message: `Cut ${m}`, stream: true }),
    });
    const s = await readSse(res);
    expect(s.done).toBe(false);
    expect(s.last.error.code).toBe('model_stream_failed');
    expect(await entryCount(companyA, m)).toBe(0);
    const after = await chat(alice, { company_id: companyA, message: `Cut ${m}` });
    expect(after.xcache).toBe('MISS');
  });
});

describe('ai-chat: failures and single-flight', () => {
  it('never caches an upstream 500, and answers it with a clear 5xx', async () => {
    const m = marker('fail');
    await simFault({ type: 'status', status: 500, count: 3, match: m });
    const r = await chat(alice, { company_id: companyA, message: m });
    expect(r.status).toBe(502);
    expect(r.json.error.code).toBe('model_unavailable');
    expect(await entryCount(companyA, m)).toBe(0);
    const next = await chat(alice, { company_id: companyA, message: m });
    expect(next.status).toBe(200);
    expect(next.xcache).toBe('MISS');
  });

  it('serves an expired entry as STALE when the model fails', async () => {
    const m = marker('stale');
    const fresh = await chat(alice, { company_id: companyA, message: m });
    await adminSql()`update public.ai_cache set expires_at = now() - interval '1 second' where company_id = ${companyA} and request::text like ${
      '%' + m + '%'
    }`;
    await simFault({ type: 'status', status: 500, count: 3, match: m });
    const stale = await chat(alice, { company_id: companyA, message: m });
    expect(stale.status).toBe(200);
    expect(stale.xcache).toBe('STALE');
    expect(stale.json).toMatchObject({ from_cache: true, message: fresh.json.message });
  });

  it('makes one upstream call for 50 concurrent identical misses, and counts each request once', async () => {
    const m = marker('flight');
    const owner = await createUser('owner');
    const company = await createCompany([[owner, 'owner'], [alice, 'member'], [bob, 'member']]);
    // The model takes a moment, so the 49 followers arrive while the leader is still waiting.
    await simFault({ type: 'delay', ms: 400, match: m });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => chat(i % 2 ? alice : bob, { company_id: company, message: m })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(await simCalls(m)).toBe(1);
    const statuses = results.map((r) => r.xcache);
    expect(statuses.filter((s) => s === 'MISS')).toHaveLength(1);
    expect(statuses.every((s) => s === 'MISS' || s === 'COALESCED' || s === 'HIT')).toBe(true);
    expect(new Set(results.map((r) => r.json.message)).size).toBe(1);
    // Honest accounting: one miss that called the model, 49 requests served without a call.
    const { data: stats, error } = await owner.client.rpc('get_cache_stats', { p_company_id: company });
    expect(error).toBeNull();
    expect(stats).toMatchObject({ misses: 1, hits: 49, upstream_calls: 1, entries: 1 });
  });
});
