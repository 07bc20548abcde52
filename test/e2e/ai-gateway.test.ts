// ai-gateway end to end, driven by the official openai SDK exactly as an app would: the
// function's URL as baseURL, the user's access token as apiKey, X-Company-Id / X-Cache-Type.
import { createClient } from '@supabase/supabase-js';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCachedOpenAI } from '../../src/client/index.ts';
import {
  adminSql,
  ANON_KEY,
  closeAdminSql,
  createCompany,
  createUser,
  FUNCTIONS_URL,
  marker,
  OPENAI_BASE_URL,
  SERVICE_ROLE_KEY,
  serviceClient,
  SIM_ORIGIN,
  simCalls,
  simFault,
  SUPABASE_URL,
  type TestUser,
} from '../helpers/stack.ts';

const BASE_URL = `${FUNCTIONS_URL}/ai-gateway/v1`;
const MODEL = 'gpt-4o-mini';
const EMBEDDING_MODEL = 'text-embedding-3-small';

let owner: TestUser;
let member: TestUser;
let outsider: TestUser;
let companyA: string;
let companyB: string;

function sdk(apiKey: string, headers: Record<string, string> = {}): OpenAI {
  return new OpenAI({ apiKey, baseURL: BASE_URL, defaultHeaders: headers, maxRetries: 0 });
}
const forUser = (user: TestUser, companyId: string, cacheType?: string) =>
  sdk(user.jwt, { 'X-Company-Id': companyId, ...(cacheType ? { 'X-Cache-Type': cacheType } : {}) });

/** The simulated model directly: what an uncached call answers. */
const direct = new OpenAI({ apiKey: 'sk-sim', baseURL: OPENAI_BASE_URL, maxRetries: 0 });

async function simEmbeddingCalls(match: string): Promise<number> {
  const res = await fetch(`${SIM_ORIGIN}/_sim/stats?match=${encodeURIComponent(match)}`);
  return ((await res.json()) as { embeddings: number }).embeddings;
}

const ask = (m: string, extra: Record<string, unknown> = {}) => ({
  model: MODEL,
  messages: [{ role: 'user' as const, content: `What is VAT? ${m}` }],
  ...extra,
});

beforeAll(async () => {
  owner = await createUser('gw-owner');
  member = await createUser('gw-member');
  outsider = await createUser('gw-outsider');
  companyA = await createCompany([[owner, 'owner'], [member, 'member']]);
  companyB = await createCompany([[outsider, 'owner']]);
});

afterAll(async () => {
  await closeAdminSql();
});

describe('ai-gateway: chat completions', () => {
  it('answers a miss with the upstream body and replays the same body, usage included, on a hit', async () => {
    const m = marker('plain');
    const client = forUser(member, companyA);
    const first = await client.chat.completions.create(ask(m)).withResponse();
    expect(first.response.headers.get('x-cache')).toBe('MISS');
    expect(first.data.object).toBe('chat.completion');
    expect(first.data.choices[0]!.message.content).toContain(m);
    expect(first.data.usage!.total_tokens).toBeGreaterThan(0);

    const second = await client.chat.completions.create(ask(m)).withResponse();
    expect(second.response.headers.get('x-cache')).toBe('HIT');
    expect(Number(second.response.headers.get('age'))).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(second.data)).toBe(JSON.stringify(first.data));
    expect(await simCalls(m)).toBe(1);
  });

  it('keeps stream, user, metadata and store out of the key, and the prompt in it', async () => {
    const m = marker('outofkey');
    const client = forUser(member, companyA);
    await client.chat.completions.create(ask(m));
    const same = await client.chat.completions.create(ask(m, { user: 'someone', metadata: { a: 'b' }, store: false }))
      .withResponse();
    expect(same.response.headers.get('x-cache')).toBe('HIT');
    const other = await client.chat.completions.create(ask(m, { temperature: 0.2 })).withResponse();
    expect(other.response.headers.get('x-cache')).toBe('MISS');
    expect(await simCalls(m)).toBe(2);
  });

  it('streams a miss through the SDK stream helpers, and a plain and a streamed request share the entry', async () => {
    const m = marker('stream');
    const client = forUser(member, companyA);
    const stream = client.chat.completions.stream(ask(m, { stream_options: { include_usage: true } }));
    const deltas: string[] = [];
    stream.on('content', (delta) => deltas.push(delta));
    const streamed = await stream.finalChatCompletion();
    expect(deltas.join('')).toBe(streamed.choices[0]!.message.content);
    expect(streamed.choices[0]!.message.content).toContain(m);
    expect(streamed.usage!.total_tokens).toBeGreaterThan(0);

    const plain = await client.chat.completions.create(ask(m)).withResponse();
    expect(plain.response.headers.get('x-cache')).toBe('HIT');
    expect(plain.data.choices[0]!.message.content).toBe(streamed.choices[0]!.message.content);
    expect(plain.data.usage!.total_tokens).toBe(streamed.usage!.total_tokens);
    expect(plain.data.id).toBe(streamed.id);

    const { data: replay, response } = await client.chat.completions
      .create({ ...ask(m), stream: true, stream_options: { include_usage: true } })
      .withResponse();
    expect(response.headers.get('x-cache')).toBe('HIT');
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of replay) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(streamed.choices[0]!.message.content);
    expect(usage!.total_tokens).toBe(streamed.usage!.total_tokens);
    expect(await simCalls(m)).toBe(1);
  });

  it('sends no usage chunk to a stream that did not ask for one', async () => {
    const m = marker('nousage');
    const client = forUser(member, companyA);
    for (const expected of ['MISS', 'HIT']) {
      const { data, response } = await client.chat.completions.create({ ...ask(m), stream: true }).withResponse();
      expect(response.headers.get('x-cache')).toBe(expected);
      const chunks = [];
      for await (const c of data) chunks.push(c);
      expect(chunks.some((c) => c.usage)).toBe(false);
      expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toContain(m);
    }
  });

  it('caches tool calls and replays them, streamed or not', async () => {
    const m = marker('tools');
    const client = forUser(member, companyA);
    const tools: OpenAI.ChatCompletionTool[] = [{
      type: 'function',
      function: {
        name: 'categorize_transaction',
        parameters: {
          type: 'object',
          properties: { category: { type: 'string' }, amount: { type: 'number' } },
          required: ['category', 'amount'],
        },
      },
    }];
    const req = { ...ask(m), tools, tool_choice: 'required' as const };
    const first = await client.chat.completions.create(req);
    expect(first.choices[0]!.finish_reason).toBe('tool_calls');
    const call = first.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(call.function.name).toBe('categorize_transaction');
    expect(Object.keys(JSON.parse(call.function.arguments)).sort()).toEqual(['amount', 'category']);

    const streamed = await client.chat.completions.stream(req).finalChatCompletion();
    expect(streamed.choices[0]!.message.tool_calls).toEqual(first.choices[0]!.message.tool_calls);
    expect(await simCalls(m)).toBe(1);
  });

  it('caches structured output (response_format json_schema)', async () => {
    const m = marker('schema');
    const client = forUser(member, companyA, 'document_analysis');
    const response_format = {
      type: 'json_schema' as const,
      json_schema: {
        name: 'invoice',
        strict: true,
        schema: {
          type: 'object',
          properties: { supplier: { type: 'string' }, total: { type: 'number' } },
          required: ['supplier', 'total'],
          additionalProperties: false,
        },
      },
    };
    const first = await client.chat.completions.create(ask(m, { response_format })).withResponse();
    const parsed = JSON.parse(first.data.choices[0]!.message.content!);
    expect(typeof parsed.supplier).toBe('string');
    expect(typeof parsed.total).toBe('number');
    const second = await client.chat.completions.create(ask(m, { response_format })).withResponse();
    expect(second.response.headers.get('x-cache')).toBe('HIT');
    expect(second.data.choices[0]!.message.content).toBe(first.data.choices[0]!.message.content);
    // Without the schema it is another question.
    const plain = await client.chat.completions.create(ask(m)).withResponse();
    expect(plain.response.headers.get('x-cache')).toBe('MISS');
  });

  it('caches n choices, seed, stop and logprobs as answered', async () => {
    const m = marker('choices');
    const client = forUser(member, companyA);
    const req = ask(m, { n: 2, seed: 7, stop: ['\n\n'], logprobs: true, top_logprobs: 2 });
    const first = await client.chat.completions.create(req);
    expect(first.choices).toHaveLength(2);
    expect(first.choices[1]!.index).toBe(1);
    expect(first.choices[0]!.logprobs!.content!.length).toBeGreaterThan(0);
    expect(first.choices[0]!.logprobs!.content![0]!.top_logprobs).toHaveLength(2);

    const streamed = await client.chat.completions.stream(req).finalChatCompletion();
    expect(streamed.choices.map((c) => c.message.content)).toEqual(first.choices.map((c) => c.message.content));
    expect(streamed.choices[0]!.logprobs!.content).toEqual(first.choices[0]!.logprobs!.content);
    const again = await client.chat.completions.create(req).withResponse();
    expect(again.response.headers.get('x-cache')).toBe('HIT');
    expect(again.data).toEqual(first);
    expect(await simCalls(m)).toBe(1);
  });

  it("never serves one company's or one cache type's answer to another", async () => {
    const m = marker('probe');
    await forUser(member, companyA).chat.completions.create(ask(m));
    const otherCompany = await forUser(outsider, companyB).chat.completions.create(ask(m)).withResponse();
    expect(otherCompany.response.headers.get('x-cache')).toBe('MISS');
    const otherType = await forUser(member, companyA, 'bank_categorization').chat.completions.create(ask(m))
      .withResponse();
    expect(otherType.response.headers.get('x-cache')).toBe('MISS');
    const global = await sdk(SERVICE_ROLE_KEY).chat.completions.create(ask(m)).withResponse();
    expect(global.response.headers.get('x-cache')).toBe('MISS');
    const again = await forUser(member, companyA).chat.completions.create(ask(m)).withResponse();
    expect(again.response.headers.get('x-cache')).toBe('HIT');
    expect(await simCalls(m)).toBe(4);
  });

  it('makes one upstream call for concurrent identical misses (single-flight)', async () => {
    const m = marker('flight');
    await simFault({ type: 'delay', ms: 400, match: m });
    const client = forUser(member, companyA);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => client.chat.completions.create(ask(m)).withResponse()),
    );
    const statuses = results.map((r) => r.response.headers.get('x-cache')).sort();
    expect(statuses.filter((s) => s === 'MISS')).toHaveLength(1);
    expect(new Set(results.map((r) => r.data.choices[0]!.message.content)).size).toBe(1);
    expect(await simCalls(m)).toBe(1);
  });

  it('honours Cache-Control: no-store, no-cache and only-if-cached', async () => {
    const m = marker('directives');
    const client = forUser(member, companyA);
    await expect(client.chat.completions.create(ask(m), { headers: { 'Cache-Control': 'only-if-cached' } })).rejects
      .toMatchObject({ status: 504 });
    const noStore = await client.chat.completions.create(ask(m), { headers: { 'Cache-Control': 'no-store' } })
      .withResponse();
    expect(noStore.response.headers.get('x-cache')).toBe('BYPASS');
    const noCache = await client.chat.completions.create(ask(m), { headers: { 'Cache-Control': 'no-cache' } })
      .withResponse();
    expect(noCache.response.headers.get('x-cache')).toBe('BYPASS');
    const hit = await client.chat.completions.create(ask(m), { headers: { 'Cache-Control': 'only-if-cached' } })
      .withResponse();
    expect(hit.response.headers.get('x-cache')).toBe('HIT');
    expect(await simCalls(m)).toBe(2);
  });

  it('serves an expired entry as STALE when the model fails', async () => {
    const m = marker('stale');
    const client = forUser(member, companyA);
    const first = await client.chat.completions.create(ask(m));
    await adminSql()`update public.ai_cache set expires_at = now() - interval '1 second' where company_id = ${companyA} and request::text like ${`%${m}%`}`;
    await simFault({ type: 'status', status: 500, count: 3, match: m });
    const stale = await client.chat.completions.create(ask(m)).withResponse();
    expect(stale.response.headers.get('x-cache')).toBe('STALE');
    expect(stale.data.choices[0]!.message.content).toBe(first.choices[0]!.message.content);
  });
});

describe("ai-gateway: errors in OpenAI's shape, raised as the SDK's classes", () => {
  it('refuses anonymous callers (401), users without X-Company-Id (400) and non-members (403)', async () => {
    const m = marker('auth');
    await expect(sdk(ANON_KEY, { 'X-Company-Id': companyA }).chat.completions.create(ask(m))).rejects.toBeInstanceOf(
      OpenAI.AuthenticationError,
    );
    await expect(sdk('not-a-jwt', { 'X-Company-Id': companyA }).chat.completions.create(ask(m))).rejects.toBeInstanceOf(
      OpenAI.AuthenticationError,
    );
    const missing = await sdk(member.jwt).chat.completions.create(ask(m)).catch((e) => e);
    expect(missing).toBeInstanceOf(OpenAI.BadRequestError);
    expect(missing.error).toMatchObject({ type: 'invalid_request_error', code: 'missing_company_id' });
    expect(Object.keys(missing.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    await expect(forUser(outsider, companyA).chat.completions.create(ask(m))).rejects.toBeInstanceOf(
      OpenAI.PermissionDeniedError,
    );
    await expect(forUser(outsider, companyA).embeddings.create({ model: EMBEDDING_MODEL, input: m })).rejects
      .toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(await simCalls(m)).toBe(0);
    expect(await simEmbeddingCalls(m)).toBe(0);
  });

  it('answers invalid bodies, unknown models and unknown paths like OpenAI', async () => {
    const client = forUser(member, companyA);
    const bad = await client.chat.completions.create({ model: MODEL, messages: [] }).catch((e) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect(bad.error.param).toBe('messages');
    const unknownModel = await client.chat.completions.create({ ...ask('x'), model: 'gpt-nope' }).catch((e) => e);
    expect(unknownModel).toBeInstanceOf(OpenAI.NotFoundError);
    expect(unknownModel.error.code).toBe('model_not_found');
    const path = await client.get('/assistants').then(() => null, (e: InstanceType<typeof OpenAI.APIError>) => e);
    expect(path).toBeInstanceOf(OpenAI.NotFoundError);
    expect(path?.error).toMatchObject({ type: 'invalid_request_error' });
  });

  it("keeps the upstream's status: a 429 stays a 429 with its Retry-After, and nothing is cached", async () => {
    const m = marker('ratelimit');
    await simFault({ type: 'status', status: 429, retryAfter: 1, count: 3, match: m });
    const err = await forUser(member, companyA).chat.completions.create(ask(m)).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.headers.get('retry-after')).toBe('1');
    const after = await forUser(member, companyA).chat.completions.create(ask(m)).withResponse();
    expect(after.response.headers.get('x-cache')).toBe('MISS');
  });
});

describe('ai-gateway: embeddings', () => {
  it('caches every item on its own: a partial batch sends only new items and answers each at its index', async () => {
    const [a, b, c] = [marker('emb-a'), marker('emb-b'), marker('emb-c')];
    const client = forUser(member, companyA);
    const first = await client.embeddings.create({ model: EMBEDDING_MODEL, input: [`first ${a}`, `second ${b}`] })
      .withResponse();
    expect(first.response.headers.get('x-cache')).toBe('MISS');
    expect(first.data.data.map((d) => d.index)).toEqual([0, 1]);

    const batch = await client.embeddings.create({
      model: EMBEDDING_MODEL,
      input: [`second ${b}`, `third ${c}`, `first ${a}`],
    }).withResponse();
    expect(batch.response.headers.get('x-cache')).toBe('PARTIAL');
    expect(batch.data.data.map((d) => d.index)).toEqual([0, 1, 2]);
    // Upstream saw the cached items once (the first batch) and the new one once (alone).
    expect(await simEmbeddingCalls(a)).toBe(1);
    expect(await simEmbeddingCalls(b)).toBe(1);
    expect(await simEmbeddingCalls(c)).toBe(1);
    const expected = await direct.embeddings.create({
      model: EMBEDDING_MODEL,
      input: [`second ${b}`, `third ${c}`, `first ${a}`],
    });
    batch.data.data.forEach((d, i) => expect(d.embedding).toEqual(expected.data[i]!.embedding));
    expect(batch.data.data[2]!.embedding).toEqual(first.data.data[0]!.embedding);
    const onlyNew = await direct.embeddings.create({ model: EMBEDDING_MODEL, input: [`third ${c}`] });
    expect(batch.data.usage.prompt_tokens).toBe(onlyNew.usage.prompt_tokens);

    const hit = await client.embeddings.create({ model: EMBEDDING_MODEL, input: `third ${c}` }).withResponse();
    expect(hit.response.headers.get('x-cache')).toBe('HIT');
    expect(hit.data.usage.prompt_tokens).toBe(0);
    expect(hit.data.data[0]!.embedding).toEqual(onlyNew.data[0]!.embedding);
  });

  it('keys on dimensions and encoding_format, and accepts token arrays', async () => {
    const m = marker('emb-dims');
    const client = forUser(member, companyA);
    await client.embeddings.create({ model: EMBEDDING_MODEL, input: m, dimensions: 64 });
    const other = await client.embeddings.create({ model: EMBEDDING_MODEL, input: m, dimensions: 32 }).withResponse();
    expect(other.response.headers.get('x-cache')).toBe('MISS');
    expect(other.data.data[0]!.embedding).toHaveLength(32);
    const float = await client.embeddings.create({
      model: EMBEDDING_MODEL,
      input: m,
      dimensions: 64,
      encoding_format: 'float',
    }).withResponse();
    expect(float.response.headers.get('x-cache')).toBe('MISS');

    const tokens = [[101, 202, 303], [404, 505]];
    const t1 = await client.embeddings.create({ model: EMBEDDING_MODEL, input: tokens, dimensions: 16 }).withResponse();
    const t2 = await client.embeddings.create({
      model: EMBEDDING_MODEL,
      input: [[404, 505], [101, 202, 303]],
      dimensions: 16,
    }).withResponse();
    expect(t2.response.headers.get('x-cache')).toBe('HIT');
    expect(t2.data.data[0]!.embedding).toEqual(t1.data.data[1]!.embedding);
    expect(t2.data.data[1]!.embedding).toEqual(t1.data.data[0]!.embedding);
  });

  it('never shares embeddings across companies or cache types', async () => {
    const m = marker('emb-probe');
    await forUser(member, companyA).embeddings.create({ model: EMBEDDING_MODEL, input: m });
    const b = await forUser(outsider, companyB).embeddings.create({ model: EMBEDDING_MODEL, input: m }).withResponse();
    expect(b.response.headers.get('x-cache')).toBe('MISS');
    const t = await forUser(member, companyA, 'search_index').embeddings.create({ model: EMBEDDING_MODEL, input: m })
      .withResponse();
    expect(t.response.headers.get('x-cache')).toBe('MISS');
    expect(await simEmbeddingCalls(m)).toBe(3);
  });
});

describe('ai-gateway: per-type policies', () => {
  it("follows the operators' defaults and the owners' overrides: off, or shared globally", async () => {
    const type = `gw_${marker('p').replace(/-/g, '_')}`;
    const m = marker('policy');
    const service = serviceClient();
    const { error: defaultError } = await service.rpc('set_cache_policy', {
      p_company_id: null,
      p_cache_type: type,
      p_ttl_seconds: 60,
      p_scope: 'company',
      p_enabled: false,
    });
    expect(defaultError).toBeNull();
    const off = await forUser(member, companyA, type).chat.completions.create(ask(m)).withResponse();
    expect(off.response.headers.get('x-cache')).toBe('BYPASS');

    // A member may not override; the owner may.
    const { error: memberError } = await member.client.rpc('set_cache_policy', {
      p_company_id: companyA,
      p_cache_type: type,
      p_ttl_seconds: 120,
      p_scope: 'company',
      p_enabled: true,
    });
    expect(memberError?.code).toBe('42501');
    const { error: ownerError } = await owner.client.rpc('set_cache_policy', {
      p_company_id: companyA,
      p_cache_type: type,
      p_ttl_seconds: 120,
      p_scope: 'global',
      p_enabled: true,
    });
    expect(ownerError).toBeNull();
    await forUser(member, companyA, type).chat.completions.create(ask(m));
    const hit = await forUser(member, companyA, type).chat.completions.create(ask(m)).withResponse();
    expect(hit.response.headers.get('x-cache')).toBe('HIT');
    const [entry] =
      await adminSql()`select company_id, expires_at - created_at as ttl from public.ai_cache where cache_type = ${type}`;
    expect(entry!.company_id).toBeNull();
    // Company B still follows the default: off.
    const b = await forUser(outsider, companyB, type).chat.completions.create(ask(m)).withResponse();
    expect(b.response.headers.get('x-cache')).toBe('BYPASS');
  });
});

describe('ai-gateway: models and the typed client', () => {
  it('lists the models the gateway allows', async () => {
    const models = [];
    for await (const model of forUser(member, companyA).models.list()) models.push(model.id);
    expect(models).toContain(MODEL);
    expect(models).toContain(EMBEDDING_MODEL);
    await expect(sdk(ANON_KEY).models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('createCachedOpenAI follows the session token and sends the company and cache type', async () => {
    const m = marker('typed');
    let calls = 0;
    const supabase = createClient(SUPABASE_URL, ANON_KEY, { accessToken: async () => (calls++, member.jwt) });
    const openai = createCachedOpenAI(supabase, { companyId: companyA, cacheType: 'document_analysis' });
    const first = await openai.chat.completions.create(ask(m)).withResponse();
    expect(first.response.headers.get('x-cache')).toBe('MISS');
    const second = await openai.chat.completions.create(ask(m)).withResponse();
    expect(second.response.headers.get('x-cache')).toBe('HIT');
    expect(calls).toBeGreaterThanOrEqual(2);
    const [entry] =
      await adminSql()`select cache_type from public.ai_cache where company_id = ${companyA} and request::text like ${`%${m}%`}`;
    expect(entry!.cache_type).toBe('document_analysis');
  });

  it("counts hits, misses and upstream calls per cache type in the company's stats", async () => {
    const type = `gw_${marker('stats').replace(/-/g, '_')}`;
    const m = marker('stats');
    const client = forUser(member, companyA, type);
    await client.chat.completions.create(ask(m));
    await client.chat.completions.create(ask(m));
    await client.embeddings.create({ model: EMBEDDING_MODEL, input: [`${m} one`, `${m} two`] });
    const { data, error } = await owner.client.rpc('get_cache_stats', { p_company_id: companyA });
    expect(error).toBeNull();
    const byType =
      (data as { by_type: Array<{ cache_type: string; hits: number; misses: number; upstream_calls: number }> })
        .by_type;
    // Embeddings: every item computed upstream is stored (and counted) by cache_store on its own.
    expect(byType.find((t) => t.cache_type === type)).toMatchObject({ hits: 1, misses: 3, upstream_calls: 3 });
  });
});
