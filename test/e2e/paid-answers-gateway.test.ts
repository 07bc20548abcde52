// ai-gateway never throws a paid answer away, through the official openai SDK: when storing
// fails after the model answered (a fault injected by a trigger fixture on ai_cache, installed
// by this suite in its own schema), the caller still gets the answer, flagged with
// X-Cache-Warning: store-failed; the upstream call is counted with its cost; the lease is freed.
// Answers that are not kept on purpose (no-store) are counted as uncached upstream calls too.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminSql,
  closeAdminSql,
  createCompany,
  createUser,
  FUNCTIONS_URL,
  marker,
  SIM_ORIGIN,
  simCalls,
  type TestUser,
} from '../helpers/stack.ts';

/** Every prompt of this suite that must fail to store carries it. */
const FAULT = marker('gw-store-fault');
const MODEL = 'gpt-4o-mini';
const EMBEDDING_MODEL = 'text-embedding-3-small';

let owner: TestUser;

beforeAll(async () => {
  owner = await createUser('gw-payer');
  const sql = adminSql();
  await sql`create schema if not exists test_fixtures_gateway`;
  await sql.unsafe(`
    create or replace function test_fixtures_gateway.refuse_store() returns trigger
    language plpgsql set search_path = '' as $$
    begin
      if new.request::text like '%${FAULT}%' then
        raise exception 'injected fault: this entry cannot be stored';
      end if;
      return new;
    end $$`);
  await sql.unsafe(`create trigger refuse_gateway_store before insert or update on public.ai_cache
                    for each row execute function test_fixtures_gateway.refuse_store()`);
});

afterAll(async () => {
  await adminSql()`drop schema if exists test_fixtures_gateway cascade`;
  await closeAdminSql();
});

function client(companyId: string, headers: Record<string, string> = {}): OpenAI {
  return new OpenAI({
    apiKey: owner.jwt,
    baseURL: `${FUNCTIONS_URL}/ai-gateway/v1`,
    defaultHeaders: { 'X-Company-Id': companyId, ...headers },
    maxRetries: 0,
  });
}

async function stats(companyId: string) {
  const { data, error } = await owner.client.rpc('get_cache_stats', { p_company_id: companyId });
  expect(error).toBeNull();
  return data as { entries: number; upstream_calls: number; misses: number; cost_usd?: number };
}

async function embeddingCalls(match: string): Promise<number> {
  const res = await fetch(`${SIM_ORIGIN}/_sim/stats?match=${encodeURIComponent(match)}`);
  return ((await res.json()) as { embeddings: number }).embeddings;
}

const leases = async (companyId: string) =>
  Number(
    (await adminSql()`select count(*)::int as n from private.ai_cache_leases where company_id = ${companyId}`)[0].n,
  );

const ask = (text: string) => ({ model: MODEL, messages: [{ role: 'user' as const, content: text }] });

describe('ai-gateway: storing fails after the model answered', () => {
  it('a chat completion still answers (MISS, store-failed), counts the call and frees the lease', async () => {
    const m = marker('gw-paid-chat');
    const company = await createCompany([[owner, 'owner']]);
    const openai = client(company);
    const r = await openai.chat.completions.create(ask(`${FAULT} ${m} What is a balance sheet?`)).withResponse();
    expect(r.response.headers.get('x-cache')).toBe('MISS');
    expect(r.response.headers.get('x-cache-warning')).toBe('store-failed');
    expect(r.data.choices[0]!.message.content).toContain(m);
    expect(await stats(company)).toMatchObject({ entries: 0, upstream_calls: 1 });
    expect(await leases(company)).toBe(0);
    // Nothing cached: asking again is another model call, flagged again.
    const again = await openai.chat.completions.create(ask(`${FAULT} ${m} What is a balance sheet?`)).withResponse();
    expect(again.response.headers.get('x-cache-warning')).toBe('store-failed');
    expect(await simCalls(m)).toBe(2);
  });

  it('a streamed completion ends normally with the whole answer; the call is counted, the lease freed', async () => {
    const m = marker('gw-paid-stream');
    const company = await createCompany([[owner, 'owner']]);
    const stream = await client(company).chat.completions.create({
      ...ask(`${FAULT} ${m} Explain depreciation`),
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toContain(m);
    expect(await stats(company)).toMatchObject({ entries: 0, upstream_calls: 1 });
    expect(await leases(company)).toBe(0);
  });

  it('embeddings still answer every vector (store-failed) and count the tokens sent upstream', async () => {
    const m = marker('gw-paid-embed');
    const company = await createCompany([[owner, 'owner']]);
    const r = await client(company).embeddings.create({
      model: EMBEDDING_MODEL,
      input: [`${FAULT} ${m} one`, `${FAULT} ${m} two`],
    }).withResponse();
    expect(r.response.headers.get('x-cache')).toBe('MISS');
    expect(r.response.headers.get('x-cache-warning')).toBe('store-failed');
    expect(r.data.data.map((d) => d.index)).toEqual([0, 1]);
    expect(r.data.usage.prompt_tokens).toBeGreaterThan(0);
    expect(await stats(company)).toMatchObject({ entries: 0, upstream_calls: 1 });
    expect(await embeddingCalls(m)).toBe(1);
  });

  it('does not flag answers that were stored', async () => {
    const m = marker('gw-stored');
    const company = await createCompany([[owner, 'owner']]);
    const r = await client(company).chat.completions.create(ask(`${m} What is VAT?`)).withResponse();
    expect(r.response.headers.get('x-cache')).toBe('MISS');
    expect(r.response.headers.get('x-cache-warning')).toBeNull();
    expect(await stats(company)).toMatchObject({ entries: 1, upstream_calls: 1 });
  });
});

describe('ai-gateway: answers not kept on purpose are still counted', () => {
  it('Cache-Control: no-store counts chat and embedding calls as uncached upstream calls', async () => {
    const m = marker('gw-nostore');
    const company = await createCompany([[owner, 'owner']]);
    const openai = client(company, { 'Cache-Control': 'no-store' });
    const chat = await openai.chat.completions.create(ask(`${m} What is VAT?`)).withResponse();
    expect(chat.response.headers.get('x-cache')).toBe('BYPASS');
    const embed = await openai.embeddings.create({ model: EMBEDDING_MODEL, input: `${m} one` }).withResponse();
    expect(embed.response.headers.get('x-cache')).toBe('BYPASS');
    expect(await stats(company)).toMatchObject({ entries: 0, upstream_calls: 2 });
    expect(await leases(company)).toBe(0);
  });
});
