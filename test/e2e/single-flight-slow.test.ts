// deno-lint-ignore-file no-explicit-any -- tests read loosely typed JSON bodies
// Single-flight when the model is slower than the lease, request deadlines, and leaders that
// die: the real functions under a short AI_CACHE_LEASE_MS and AI_MODEL_DEADLINE_MS (a second
// functions host with those secrets, same database and simulated model as the stack).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suggestCacheKey } from '../../supabase/functions/ai-suggest/handler.ts';
import {
  adminSql,
  ANON_KEY,
  closeAdminSql,
  createCompany,
  createUser,
  marker,
  simCalls,
  simFault,
  type TestUser,
} from '../helpers/stack.ts';
import { startTunedFunctions, type TunedFunctions } from '../helpers/tuned-functions.ts';

/** Renewed every second; the slow model below takes more than twice this long. */
const LEASE_MS = 3_000;
const SLOW_MODEL_MS = 7_000;
/** Every request's budget: a follower waits at most this long, a model call ends within it. */
const DEADLINE_MS = 12_000;

let fns: TunedFunctions;
let user: TestUser;
let company: string;

beforeAll(async () => {
  fns = await startTunedFunctions({ AI_CACHE_LEASE_MS: String(LEASE_MS), AI_MODEL_DEADLINE_MS: String(DEADLINE_MS) });
  user = await createUser('slow');
  company = await createCompany([[user, 'owner']]);
});

afterAll(async () => {
  await fns?.close();
  await closeAdminSql();
});

async function post(fn: string, token: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${fns.url}/${fn}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, apikey: ANON_KEY, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return {
    status: res.status,
    xcache: res.headers.get('x-cache'),
    retryAfter: res.headers.get('retry-after'),
    json,
    text,
  };
}

const chat = (message: string, extra: Record<string, unknown> = {}) =>
  post('ai-chat', user.jwt, { company_id: company, message, ...extra });
const suggest = (description: string, token: string) => post('ai-suggest', token, { description_projet: description });

function lastSseChunk(text: string) {
  const events = text.split('\n\n').filter(Boolean).map((e) => e.replace(/^data: /, ''));
  return { done: events.at(-1) === '[DONE]', last: JSON.parse(events.filter((e) => e !== '[DONE]').at(-1)!) };
}

describe('single-flight with a model slower than the lease', () => {
  it('ai-chat: 30 identical concurrent callers make exactly one upstream call and all get the answer', async () => {
    const m = marker('slow-chat');
    await simFault({ type: 'delay', ms: SLOW_MODEL_MS, match: m });
    const results = await Promise.all(Array.from({ length: 30 }, () => chat(`Explain ${m}`)));
    expect(results.map((r) => r.status)).toEqual(Array(30).fill(200));
    expect(await simCalls(m)).toBe(1);
    expect(results.filter((r) => r.xcache === 'MISS')).toHaveLength(1);
    expect(results.every((r) => ['MISS', 'COALESCED', 'HIT'].includes(r.xcache!))).toBe(true);
    expect(new Set(results.map((r) => r.json.message)).size).toBe(1);
  }, 60_000);

  it('ai-chat streams: the leader renews its lease while it streams, followers get the same answer', async () => {
    const m = marker('slow-stream');
    await simFault({ type: 'delay', ms: SLOW_MODEL_MS, match: m });
    const results = await Promise.all(Array.from({ length: 10 }, () => chat(`Stream ${m}`, { stream: true })));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(await simCalls(m)).toBe(1);
    for (const r of results) expect(lastSseChunk(r.text).done).toBe(true);
    expect(results.filter((r) => r.xcache === 'MISS')).toHaveLength(1);
  }, 60_000);

  it('ai-suggest: 30 identical concurrent callers make exactly one upstream call and all get the answer', async () => {
    const m = marker('slow-suggest');
    const users = await Promise.all(Array.from({ length: 30 }, () => createUser('form')));
    await simFault({ type: 'delay', ms: SLOW_MODEL_MS, match: m });
    const results = await Promise.all(users.map((u) => suggest(`Site vitrine ${m}`, u.jwt)));
    expect(results.map((r) => r.status)).toEqual(Array(30).fill(200));
    expect(await simCalls(m)).toBe(1);
    expect(results.filter((r) => r.xcache === 'MISS')).toHaveLength(1);
    expect(new Set(results.map((r) => JSON.stringify(r.json.suggestions))).size).toBe(1);
  }, 60_000);
});

describe.concurrent('leases and deadlines', () => {
  it('takes over the lease of a leader that died (no renewal) and answers', async () => {
    const m = marker('dead-leader');
    const description = `Boutique en ligne ${m}`;
    const { key } = await suggestCacheKey(
      description,
      'global',
      process.env.AI_SUGGEST_MODEL || process.env.AI_DEFAULT_MODEL || 'gpt-4o-mini',
    );
    // A leader took the lease and crashed: nobody renews it, it runs out in 2 s.
    await adminSql()`insert into private.ai_cache_leases (company_id, cache_key, cache_type, owner, expires_at)
                     values (null, ${key}, 'suggestions', 'crashed-leader', now() + interval '2 seconds')`;
    const r = await suggest(description, (await createUser('after-crash')).jwt);
    expect(r.status).toBe(200);
    expect(r.xcache).toBe('MISS');
    expect(await simCalls(m)).toBe(1);
    expect(
      Number((await adminSql()`select count(*)::int as n from private.ai_cache_leases where cache_key = ${key}`)[0].n),
    ).toBe(0);
  }, 60_000);

  it('answers 503 coalesce_timeout at the deadline while a live lease is held, without calling the model', async () => {
    const m = marker('stuck');
    const description = `Application mobile ${m}`;
    const { key } = await suggestCacheKey(
      description,
      'global',
      process.env.AI_SUGGEST_MODEL || process.env.AI_DEFAULT_MODEL || 'gpt-4o-mini',
    );
    await adminSql()`insert into private.ai_cache_leases (company_id, cache_key, cache_type, owner, expires_at)
                     values (null, ${key}, 'suggestions', 'busy-leader', now() + interval '10 minutes')`;
    try {
      const r = await suggest(description, (await createUser('waiter')).jwt);
      expect(r.status).toBe(503);
      expect(r.json).toMatchObject({ success: false, error: { code: 'coalesce_timeout' } });
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(await simCalls(m)).toBe(0);
    } finally {
      await adminSql()`delete from private.ai_cache_leases where cache_key = ${key}`;
    }
  }, 60_000);

  it('ends a model call that outlives the deadline with 504 model_timeout, nothing cached', async () => {
    const m = marker('too-slow');
    const own = await createCompany([[user, 'member']]);
    await simFault({ type: 'delay', ms: DEADLINE_MS * 3, match: m });
    const r = await chat(`Slow ${m}`, { company_id: own });
    expect(r.status).toBe(504);
    expect(r.json).toMatchObject({ error: { code: 'model_timeout' } });
    expect(Number((await adminSql()`select count(*)::int as n from public.ai_cache where company_id = ${own}`)[0].n))
      .toBe(0);
    expect(
      Number((await adminSql()`select count(*)::int as n from private.ai_cache_leases where company_id = ${own}`)[0].n),
    ).toBe(0);
  }, 60_000);

  it('serves the stale answer before the platform would cut the request when the model is too slow', async () => {
    const m = marker('stale-deadline');
    const first = await chat(`Stale ${m}`);
    expect(first.status).toBe(200);
    await adminSql()`update public.ai_cache set expires_at = now() - interval '1 minute'
                     where company_id = ${company} and request::text like ${'%' + m + '%'}`;
    await simFault({ type: 'delay', ms: DEADLINE_MS * 3, match: m });
    const r = await chat(`Stale ${m}`);
    expect(r.status).toBe(200);
    expect(r.xcache).toBe('STALE');
    expect(r.json.message).toBe(first.json.message);
  }, 60_000);
});
