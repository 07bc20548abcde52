// ai-chat turns over HTTP: a turn is written with its outcome (no orphan question after a 504,
// a model failure or a cut stream), Idempotency-Key retries replay the same turn with one
// upstream call, costs add up to the token-priced truth, uncached spend is counted, and an
// admin reads cache metadata but never a member's text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminSql,
  ANON_KEY,
  closeAdminSql,
  createCompany,
  createUser,
  FUNCTIONS_URL,
  marker,
  serviceClient,
  simCalls,
  simFault,
  type TestUser,
} from '../helpers/stack.ts';

let alice: TestUser;
let bob: TestUser;
let admin: TestUser;
let company: string;

beforeAll(async () => {
  alice = await createUser('alice');
  bob = await createUser('bob');
  admin = await createUser('admin');
  company = await createCompany([[alice, 'member'], [bob, 'member'], [admin, 'admin']]);
});

afterAll(async () => {
  await closeAdminSql();
});

async function chat(user: TestUser, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await fetch(`${FUNCTIONS_URL}/ai-chat`, {
    method: 'POST',
    headers: { authorization: `Bearer ${user.jwt}`, apikey: ANON_KEY, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const json = res.headers.get('content-type')?.includes('json') && text ? JSON.parse(text) : null;
  return { res, status: res.status, xcache: res.headers.get('x-cache'), json, text };
}

function parseSse(text: string) {
  const events = text.split('\n\n').filter(Boolean).map((e) => e.replace(/^data: /, ''));
  const chunks = events.filter((e) => e !== '[DONE]').map((e) => JSON.parse(e));
  return {
    done: events.at(-1) === '[DONE]',
    content: chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join(''),
    last: chunks.at(-1),
  };
}

const messagesOf = async (conversationId: string) =>
  (await adminSql()`select role, content from public.ai_messages where conversation_id = ${conversationId} order by created_at, seq`)
    .map((r) => `${r.role}: ${r.content}`);

const conversationsOf = async (user: TestUser) =>
  Number((await adminSql()`select count(*)::int as n from public.ai_conversations where user_id = ${user.id}`)[0].n);

const messagesMentioning = async (m: string) =>
  Number(
    (await adminSql()`select count(*)::int as n from public.ai_messages where content like ${'%' + m + '%'}`)[0].n,
  );

describe('a turn is written with its outcome', () => {
  it('an only-if-cached 504 writes nothing: no conversation, no message', async () => {
    const m = marker('oic');
    const before = await conversationsOf(alice);
    const r = await chat(alice, { company_id: company, message: `Never asked ${m}` }, {
      'cache-control': 'only-if-cached',
    });
    expect(r.status).toBe(504);
    expect(r.json.error.code).toBe('not_cached');
    expect(await conversationsOf(alice)).toBe(before);
    expect(await messagesMentioning(m)).toBe(0);

    // In an existing conversation too.
    const first = await chat(alice, { company_id: company, message: `Start ${m}` });
    const again = await chat(alice, {
      company_id: company,
      conversation_id: first.json.conversation_id,
      message: `Not cached ${m}`,
    }, { 'cache-control': 'only-if-cached' });
    expect(again.status).toBe(504);
    expect(await messagesOf(first.json.conversation_id)).toEqual([
      `user: Start ${m}`,
      `assistant: ${first.json.message}`,
    ]);
    expect(await simCalls(m)).toBe(1);
  });

  it('a model failure leaves no orphan question, and the next turn sees the same history as if it never happened', async () => {
    const m = marker('orphan');
    const q1 = `First question ${m}`;
    const q3 = `Third question ${m}`;
    const a1 = await chat(alice, { company_id: company, message: q1 });
    const conversation = a1.json.conversation_id;

    await simFault({ type: 'status', status: 500, count: 3, match: `Failing ${m}` });
    const failed = await chat(alice, { company_id: company, conversation_id: conversation, message: `Failing ${m}` });
    expect(failed.status).toBe(502);
    expect(await messagesOf(conversation)).toEqual([`user: ${q1}`, `assistant: ${a1.json.message}`]);

    // Bob asks q1 then q3 in his own conversation: the same history alice has without the failed turn.
    const b1 = await chat(bob, { company_id: company, message: q1 });
    expect(b1.xcache).toBe('HIT');
    const b3 = await chat(bob, { company_id: company, conversation_id: b1.json.conversation_id, message: q3 });
    expect(b3.xcache).toBe('MISS');
    // Alice's next turn has exactly that cache key: her history was not poisoned by the failed question.
    const a3 = await chat(alice, { company_id: company, conversation_id: conversation, message: q3 });
    expect(a3.status).toBe(200);
    expect(a3.xcache).toBe('HIT');
    expect(a3.json.message).toBe(b3.json.message);
    expect(await messagesOf(conversation)).toEqual([
      `user: ${q1}`,
      `assistant: ${a1.json.message}`,
      `user: ${q3}`,
      `assistant: ${a3.json.message}`,
    ]);
  });

  it('a stream cut by the model leaves no orphan question either', async () => {
    const m = marker('cut');
    const first = await chat(alice, { company_id: company, message: `Begin ${m}` });
    await simFault({ type: 'cut_stream', afterChunks: 1, match: `Cut ${m}` });
    const cut = await chat(alice, {
      company_id: company,
      conversation_id: first.json.conversation_id,
      message: `Cut ${m}`,
      stream: true,
    });
    const s = parseSse(cut.text);
    expect(s.done).toBe(false);
    expect(s.last.error.code).toBe('model_stream_failed');
    expect(await messagesOf(first.json.conversation_id)).toEqual([
      `user: Begin ${m}`,
      `assistant: ${first.json.message}`,
    ]);
  });

  it('a new conversation whose first turn fails is not created', async () => {
    const m = marker('newfail');
    const before = await conversationsOf(alice);
    await simFault({ type: 'status', status: 500, count: 3, match: m });
    const r = await chat(alice, { company_id: company, message: `Doomed ${m}` });
    expect(r.status).toBe(502);
    expect(await conversationsOf(alice)).toBe(before);
    expect(await messagesMentioning(m)).toBe(0);
  });
});

describe('Idempotency-Key', () => {
  it('a retry returns the same turn: one upstream call, one pair of messages', async () => {
    const m = marker('idem');
    const key = `retry-${m}`;
    const first = await chat(alice, { company_id: company, message: `Idempotent ${m}` }, { 'idempotency-key': key });
    expect(first.status).toBe(200);
    expect(first.xcache).toBe('MISS');
    const retry = await chat(alice, { company_id: company, message: `Idempotent ${m}` }, { 'idempotency-key': key });
    expect(retry.status).toBe(200);
    expect(retry.res.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.xcache).toBe('MISS');
    expect(retry.json).toEqual(first.json);
    expect(await simCalls(m)).toBe(1);
    expect(await messagesOf(first.json.conversation_id)).toEqual([
      `user: Idempotent ${m}`,
      `assistant: ${first.json.message}`,
    ]);

    // Replayed as a stream, too.
    const streamed = await chat(alice, { company_id: company, message: `Idempotent ${m}`, stream: true }, {
      'idempotency-key': key,
    });
    expect(streamed.status).toBe(200);
    const s = parseSse(streamed.text);
    expect(s.done).toBe(true);
    expect(s.content).toBe(first.json.message);
    expect(s.last).toMatchObject({ conversation_id: first.json.conversation_id, message_id: first.json.message_id });
    expect(await simCalls(m)).toBe(1);
  });

  it('a streamed turn is replayed too, in a continued conversation', async () => {
    const m = marker('idemstream');
    const start = await chat(alice, { company_id: company, message: `Open ${m}` });
    const body = {
      company_id: company,
      conversation_id: start.json.conversation_id,
      message: `Streamed ${m}`,
      stream: true,
    };
    const first = parseSse((await chat(alice, body, { 'idempotency-key': `s-${m}` })).text);
    expect(first.done).toBe(true);
    const again = await chat(alice, body, { 'idempotency-key': `s-${m}` });
    expect(again.res.headers.get('idempotent-replayed')).toBe('true');
    const replay = parseSse(again.text);
    expect(replay.content).toBe(first.content);
    expect(replay.last.message_id).toBe(first.last.message_id);
    expect(await simCalls(`Streamed ${m}`)).toBe(1);
    expect(await messagesOf(start.json.conversation_id)).toHaveLength(4);
  });

  it('concurrent duplicates make one model call and store one pair', async () => {
    const m = marker('idemrace');
    await simFault({ type: 'delay', ms: 500, match: m });
    const body = { company_id: company, message: `Race ${m}` };
    const results = await Promise.all(
      Array.from({ length: 5 }, () => chat(alice, body, { 'idempotency-key': `race-${m}` })),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(new Set(results.map((r) => r.json.message_id)).size).toBe(1);
    expect(new Set(results.map((r) => r.json.conversation_id)).size).toBe(1);
    expect(await simCalls(m)).toBe(1);
    expect(await messagesMentioning(m)).toBe(2);
  });

  it('keys are per user: the same key from another user is another turn', async () => {
    const m = marker('idemuser');
    const a = await chat(alice, { company_id: company, message: `Mine ${m}` }, { 'idempotency-key': `shared-${m}` });
    const b = await chat(bob, { company_id: company, message: `Mine ${m}` }, { 'idempotency-key': `shared-${m}` });
    expect(b.status).toBe(200);
    expect(b.res.headers.get('idempotent-replayed')).toBeNull();
    expect(b.json.conversation_id).not.toBe(a.json.conversation_id);
  });

  it('a failed turn releases its key: the retry runs', async () => {
    const m = marker('idemfail');
    await simFault({ type: 'status', status: 500, count: 3, match: m });
    const failed = await chat(alice, { company_id: company, message: `Flaky ${m}` }, { 'idempotency-key': `f-${m}` });
    expect(failed.status).toBe(502);
    const retry = await chat(alice, { company_id: company, message: `Flaky ${m}` }, { 'idempotency-key': `f-${m}` });
    expect(retry.status).toBe(200);
    expect(retry.res.headers.get('idempotent-replayed')).toBeNull();
    expect(await messagesMentioning(m)).toBe(2);
  });

  it('refuses a reused key with another body (422) and a malformed key (400), writing nothing', async () => {
    const m = marker('idembad');
    await chat(alice, { company_id: company, message: `One ${m}` }, { 'idempotency-key': `k-${m}` });
    const other = await chat(alice, { company_id: company, message: `Two ${m}` }, { 'idempotency-key': `k-${m}` });
    expect(other.status).toBe(422);
    expect(other.json.error.code).toBe('idempotency_key_reused');
    const bad = await chat(alice, { company_id: company, message: `Three ${m}` }, {
      'idempotency-key': 'x'.repeat(256),
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('invalid_idempotency_key');
    expect(await simCalls(m)).toBe(1);
    expect(await messagesMentioning(m)).toBe(2);
  });

  it('the typed client sends it', async () => {
    const { createAiCacheClient } = await import('../../src/client/index.ts');
    const ai = createAiCacheClient(alice.client);
    const m = marker('idemclient');
    const a = await ai.chat({ companyId: company, message: `Typed ${m}`, idempotencyKey: `c-${m}` });
    const b = await ai.chat({ companyId: company, message: `Typed ${m}`, idempotencyKey: `c-${m}` });
    expect(b.message_id).toBe(a.message_id);
    expect(await simCalls(m)).toBe(1);
  });
});

describe('accounting', () => {
  // gpt-4.1-nano: $0.10 / $0.40 per 1M tokens (the built-in price table).
  const price = (u: { prompt_tokens: number; completion_tokens: number }) =>
    (u.prompt_tokens * 0.1 + u.completion_tokens * 0.4) / 1e6;

  it('savings of a workload of small answers match the token-priced truth within 0.1%', async () => {
    const owner = await createUser('owner');
    const c = await createCompany([[owner, 'owner'], [alice, 'member']]);
    const m = marker('cents');
    let truth = 0;
    for (let i = 0; i < 6; i++) {
      const q = { company_id: c, message: `Hi ${i} ${m}`, model: 'gpt-4.1-nano' };
      const miss = await chat(alice, q);
      expect(miss.xcache).toBe('MISS');
      for (let h = 0; h < 3; h++) {
        const hit = await chat(alice, q);
        expect(hit.xcache).toBe('HIT');
        truth += price(hit.json.usage);
      }
    }
    const { data: stats, error } = await owner.client.rpc('get_cache_stats', { p_company_id: c });
    expect(error).toBeNull();
    expect(stats.hits).toBe(18);
    expect(Math.abs(Number(stats.cost_saved_usd) - truth) / truth).toBeLessThan(0.001);
  });

  it('calls made under no-store are spend: counted as upstream calls, labelled uncached, in stats and metrics', async () => {
    const owner = await createUser('owner');
    const c = await createCompany([[owner, 'owner'], [alice, 'member']]);
    const m = marker('nostorespend');
    const metric = async () => {
      const res = await fetch(`${FUNCTIONS_URL}/ai-metrics`, {
        headers: { authorization: `Bearer ${process.env.AI_METRICS_TOKEN ?? 'local-metrics-token'}` },
      });
      const line = (await res.text()).split('\n').find((l) =>
        l.startsWith('ai_upstream_uncached_calls_total{cache_type="chat"}')
      );
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    const before = await metric();
    const r = await chat(alice, { company_id: c, message: `Do not keep ${m}`, model: 'gpt-4.1-nano' }, {
      'cache-control': 'no-store',
    });
    expect(r.xcache).toBe('BYPASS');
    const nc = await chat(alice, { company_id: c, message: `Refresh ${m}`, model: 'gpt-4.1-nano' }, {
      'cache-control': 'no-cache',
    });
    expect(nc.xcache).toBe('BYPASS');
    const { data: stats } = await owner.client.rpc('get_cache_stats', { p_company_id: c });
    expect(stats).toMatchObject({ upstream_calls: 2, uncached_calls: 1, entries: 1 });
    expect(Number(stats.uncached_tokens)).toBe(r.json.usage.total_tokens);
    expect(Number(stats.uncached_cost_usd)).toBeCloseTo(price(r.json.usage), 12);
    expect(Number(stats.upstream_cost_usd)).toBeCloseTo(price(r.json.usage) + price(nc.json.usage), 12);
    expect(await metric()).toBeGreaterThanOrEqual(before + 1);
  });
});

describe('privacy', () => {
  it("an admin reads the metadata of a member's entry through supabase-js, never its text", async () => {
    const m = marker('private');
    const history = `Earlier secret ${m}`;
    const first = await chat(alice, { company_id: company, message: history });
    await chat(alice, { company_id: company, conversation_id: first.json.conversation_id, message: `Follow-up ${m}` });

    const meta = await admin.client.from('ai_cache').select(
      'id, cache_type, model, total_tokens, cost_usd, hit_count, created_at',
    )
      .eq('company_id', company);
    expect(meta.error).toBeNull();
    expect(meta.data!.length).toBeGreaterThan(0);
    expect(JSON.stringify(meta.data)).not.toContain(m);
    for (const column of ['request', 'cached_result', 'cache_key', '*']) {
      const r = await admin.client.from('ai_cache').select(column).eq('company_id', company);
      expect(r.error, column).not.toBeNull();
      expect(JSON.stringify(r.data ?? null)).not.toContain(m);
    }
    const messages = await admin.client.from('ai_messages').select('content');
    expect(JSON.stringify(messages.data)).not.toContain(m);

    // The chat entry of the follow-up keeps its question only, not the conversation's history.
    const { data: rows } = await serviceClient().from('ai_cache').select('request').eq('company_id', company);
    const followUp = rows!.find((r) => JSON.stringify(r.request).includes(`Follow-up ${m}`));
    expect(followUp).toBeDefined();
    expect(JSON.stringify(followUp!.request)).not.toContain(history);
    expect(followUp!.request).not.toHaveProperty('messages');
  });
});
