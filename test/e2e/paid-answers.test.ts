// A paid answer is never thrown away: when storing fails after the model answered (a fault
// injected by a trigger fixture on ai_cache, installed by this suite), the caller still gets
// the answer, flagged with X-Cache-Warning: store-failed; the upstream call is still counted
// with its cost; the single-flight lease is released.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminSql,
  ANON_KEY,
  closeAdminSql,
  createCompany,
  createUser,
  eventually,
  FUNCTIONS_URL,
  marker,
  SERVICE_ROLE_KEY,
  simCalls,
  type TestUser,
} from '../helpers/stack.ts';

/** Every prompt of this suite carries it; the fixture refuses to store their answers. */
const FAULT = marker('store-fault');
/** Prompts carrying it are stored slowly (the fixture sleeps 300 ms in the store's transaction). */
const SLOW = marker('store-slow');

let owner: TestUser;
let company: string;

beforeAll(async () => {
  owner = await createUser('payer');
  company = await createCompany([[owner, 'owner']]);
  const sql = adminSql();
  await sql`create schema if not exists test_fixtures`;
  await sql.unsafe(`
    create or replace function test_fixtures.refuse_store() returns trigger
    language plpgsql set search_path = '' as $$
    begin
      if new.request::text like '%${FAULT}%' then
        raise exception 'injected fault: this entry cannot be stored';
      end if;
      if new.request::text like '%${SLOW}%' then
        perform pg_sleep(0.3);
      end if;
      return new;
    end $$`);
  await sql.unsafe(`create trigger refuse_store before insert or update on public.ai_cache
                    for each row execute function test_fixtures.refuse_store()`);
});

afterAll(async () => {
  await adminSql()`drop schema if exists test_fixtures cascade`;
  await closeAdminSql();
});

async function post(fn: string, token: string, body: unknown) {
  const res = await fetch(`${FUNCTIONS_URL}/${fn}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, apikey: ANON_KEY, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, xcache: res.headers.get('x-cache'), warning: res.headers.get('x-cache-warning'), text };
}

async function stats(companyId: string) {
  const { data, error } = await owner.client.rpc('get_cache_stats', { p_company_id: companyId });
  expect(error).toBeNull();
  return data as { entries: number; upstream_calls: number; misses: number };
}

const leases = async (companyId: string) =>
  Number(
    (await adminSql()`select count(*)::int as n from private.ai_cache_leases where company_id = ${companyId}`)[0].n,
  );

describe('storing fails after the model answered', () => {
  it('ai-chat still answers (MISS, store-failed), keeps the turn, counts the call and frees the lease', async () => {
    const m = marker('paid-chat');
    const r = await post('ai-chat', owner.jwt, {
      company_id: company,
      message: `${FAULT} ${m} What is a balance sheet?`,
    });
    expect(r.status).toBe(200);
    expect(r.xcache).toBe('MISS');
    expect(r.warning).toBe('store-failed');
    const body = JSON.parse(r.text);
    expect(body.message.length).toBeGreaterThan(0);
    expect(body.cache).toBe('MISS');
    // The conversation keeps the question and its paid answer.
    const messages =
      await adminSql()`select role, content from public.ai_messages where conversation_id = ${body.conversation_id} order by created_at, seq`;
    expect(messages.map((x) => x.role)).toEqual(['user', 'assistant']);
    expect(messages[1].content).toBe(body.message);
    expect(await stats(company)).toMatchObject({ entries: 0, upstream_calls: 1 });
    expect(await leases(company)).toBe(0);
    // Nothing cached: asking again is another model call (answered the same way).
    const again = await post('ai-chat', owner.jwt, {
      company_id: company,
      message: `${FAULT} ${m} What is a balance sheet?`,
    });
    expect(again.status).toBe(200);
    expect(again.warning).toBe('store-failed');
    expect(await simCalls(m)).toBe(2);
  });

  it('ai-chat streams end normally, the last chunk flagged store-failed', async () => {
    const m = marker('paid-stream');
    const own = await createCompany([[owner, 'owner']]);
    const r = await post('ai-chat', owner.jwt, {
      company_id: own,
      message: `${FAULT} ${m} Explain depreciation`,
      stream: true,
    });
    expect(r.status).toBe(200);
    const events = r.text.split('\n\n').filter(Boolean).map((e) => e.replace(/^data: /, ''));
    expect(events.at(-1)).toBe('[DONE]');
    const last = JSON.parse(events.at(-2)!);
    expect(last).toMatchObject({ from_cache: false, cache: 'MISS', cache_warning: 'store-failed' });
    expect(await stats(own)).toMatchObject({ entries: 0, upstream_calls: 1 });
    expect(await leases(own)).toBe(0);
  });

  it('ai-suggest still answers (MISS, store-failed), counts the call and frees the lease', async () => {
    const m = marker('paid-suggest');
    const own = await createCompany([[owner, 'owner']]);
    const description = `Site vitrine ${FAULT} ${m}`;
    const r = await post('ai-suggest', owner.jwt, { description_projet: description, company_id: own });
    expect(r.status).toBe(200);
    expect(r.xcache).toBe('MISS');
    expect(r.warning).toBe('store-failed');
    expect(JSON.parse(r.text)).toMatchObject({
      success: true,
      from_cache: false,
      suggestions: { type_projet: expect.any(String) },
    });
    expect(await stats(own)).toMatchObject({ entries: 0, upstream_calls: 1 });
    expect(await leases(own)).toBe(0);
  });

  it('does not flag answers that were stored', async () => {
    const m = marker('stored');
    const r = await post('ai-suggest', SERVICE_ROLE_KEY, { description_projet: `Site vitrine ${m}` });
    expect(r.status).toBe(200);
    expect(r.warning).toBeNull();
  });
});

describe('a store slower than AI_CACHE_STORE_WAIT_MS', () => {
  it('ai-suggest answers without it; the lease stays held until it lands, so the next caller gets that answer', async () => {
    const m = marker('slow-suggest');
    const own = await createCompany([[owner, 'owner']]);
    const body = { description_projet: `Site vitrine ${SLOW} ${m}`, company_id: own };
    const first = await post('ai-suggest', owner.jwt, body);
    expect(first.status).toBe(200);
    expect(first.xcache).toBe('MISS');
    expect(first.warning).toBeNull();
    // Asked again at once: served the first answer (waiting on the lease or on the store's
    // commit), never a second model call.
    const next = await post('ai-suggest', owner.jwt, body);
    expect(next.status).toBe(200);
    expect(['HIT', 'COALESCED']).toContain(next.xcache);
    expect(JSON.parse(next.text).suggestions).toEqual(JSON.parse(first.text).suggestions);
    expect(await simCalls(m)).toBe(1);
    await eventually(async () => {
      expect(await stats(own)).toMatchObject({ entries: 1, upstream_calls: 1 });
      expect(await leases(own)).toBe(0);
    });
  });
});
