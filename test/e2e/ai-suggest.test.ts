// deno-lint-ignore-file no-explicit-any -- tests read loosely typed JSON bodies
// ai-suggest end to end over HTTP (seed 000's contract), plus the pieces it is built from
// (schema, key normalization, structured-output repair, client address, token bucket).
import { randomInt } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleFromSchema } from '../../src/sim-openai/schema-sample.ts';
import { clientAddress, normalizeAddress } from '../../supabase/functions/_shared/client-ip.ts';
import { completeStructured, InvalidModelOutputError } from '../../supabase/functions/_shared/structured-output.ts';
import { bucketFor, suggestCacheKey } from '../../supabase/functions/ai-suggest/handler.ts';
import { Answer, ANSWER_JSON_SCHEMA, PROMPT_VERSION } from '../../supabase/functions/ai-suggest/prompts.ts';
import { Body } from '../../supabase/functions/ai-suggest/schema.ts';
import {
  adminSql,
  ANON_KEY,
  closeAdminSql,
  createCompany,
  createUser,
  DB_URL,
  FUNCTIONS_URL,
  marker,
  simCalls,
  simFault,
  type TestUser,
} from '../helpers/stack.ts';
import {
  bucketRow,
  expectContract,
  SERVICE_TOKEN,
  suggestFromAddress,
  suggestHttp,
  suggestionEntries,
} from '../helpers/suggest.ts';

let alice: TestUser;
let bob: TestUser;
let eve: TestUser;
let companyA: string;

beforeAll(async () => {
  alice = await createUser('alice');
  bob = await createUser('bob');
  eve = await createUser('eve');
  companyA = await createCompany([[alice, 'owner'], [bob, 'member']]);
});

afterAll(async () => {
  await closeAdminSql();
});

describe('ai-suggest: the seed 000 contract', () => {
  it('answers the seed 000 curl example (anon key) with the documented fields and types', async () => {
    const r = await suggestHttp({ description_projet: 'Site web pour mon restaurant' });
    expect(r.status).toBe(200);
    expect(r.res.headers.get('content-type')).toContain('application/json');
    expect(expectContract(r.json)).toEqual([]);
    expect(['MISS', 'HIT', 'COALESCED']).toContain(r.xcache);
    expect(r.json.from_cache).toBe(r.xcache !== 'MISS');
  });

  it('answers a miss from the model, then the same description from the cache', async () => {
    const m = marker('resto');
    const first = await suggestHttp({ description_projet: `Site web pour mon restaurant ${m}` });
    expect(first.status).toBe(200);
    expect(first.xcache).toBe('MISS');
    expect(first.age).toBe('0');
    expect(first.json.from_cache).toBe(false);
    expect(expectContract(first.json)).toEqual([]);
    expect(await simCalls(m)).toBe(1);

    const second = await suggestHttp({ description_projet: `Site web pour mon restaurant ${m}` });
    expect(second.status).toBe(200);
    expect(second.xcache).toBe('HIT');
    expect(Number(second.age)).toBeGreaterThanOrEqual(0);
    expect(second.json).toEqual({ ...first.json, from_cache: true });
    expect(JSON.stringify(second.json.suggestions)).toBe(JSON.stringify(first.json.suggestions)); // same key order
    expect(await simCalls(m)).toBe(1);
    expect(await suggestionEntries(m, null)).toBe(1);
  });

  it('serves case, spacing and Unicode variants of a description from the same entry', async () => {
    const m = marker('variants');
    const base = await suggestHttp({ description_projet: `Boutique de café à Noël ${m}` });
    expect(base.xcache).toBe('MISS');
    const variants = [
      `boutique de café à noël ${m}`,
      `  BOUTIQUE   DE CAFÉ À NOËL ${m.toUpperCase()}  `,
      `Boutique\tde\ncafé  à Noël ${m}`,
      `Boutique de cafe\u0301 a\u0300 Noe\u0308l ${m}`, // decomposed (NFD) accents
      `Boutique\u00a0de café à Noël\u2003${m}`, // no-break and em spaces
    ];
    for (const description_projet of variants) {
      const r = await suggestHttp({ description_projet });
      expect(r.status, description_projet).toBe(200);
      expect(r.xcache, description_projet).toBe('HIT');
      expect(r.json).toEqual({ ...base.json, from_cache: true });
    }
    expect(await simCalls(m)).toBe(1);
    expect(await suggestionEntries(m)).toBe(1);
  });

  it('shares the global scope between anonymous callers and signed-in users', async () => {
    const m = marker('shared');
    const anon = await suggestHttp({ description_projet: `Application mobile de réservation ${m}` });
    expect(anon.xcache).toBe('MISS');
    const user = await suggestHttp({ description_projet: `application mobile de réservation ${m}` }, {
      token: alice.jwt,
    });
    expect(user.xcache).toBe('HIT');
    expect(user.json.suggestions).toEqual(anon.json.suggestions);
  });

  it('answers CORS preflight without credentials', async () => {
    const res = await fetch(`${FUNCTIONS_URL}/ai-suggest`, {
      method: 'OPTIONS',
      headers: { origin: 'https://quotes.example', 'access-control-request-method': 'POST' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    await res.text();
  });
});

describe('ai-suggest: company scope', () => {
  it('keeps a company its own entries, separate from the global scope, for members only', async () => {
    const m = marker('company');
    const description_projet = `Intranet RH pour 40 salariés ${m}`;
    const global = await suggestHttp({ description_projet });
    expect(global.xcache).toBe('MISS');

    const own = await suggestHttp({ description_projet, company_id: companyA }, { token: alice.jwt });
    expect(own.status).toBe(200);
    expect(own.xcache).toBe('MISS'); // the global entry is not served in the company scope
    const colleague = await suggestHttp(
      { description_projet: description_projet.toUpperCase(), company_id: companyA },
      { token: bob.jwt },
    );
    expect(colleague.xcache).toBe('HIT');
    expect(colleague.json.suggestions).toEqual(own.json.suggestions);
    expect(await simCalls(m)).toBe(2);
    expect(await suggestionEntries(m, companyA)).toBe(1);
    expect(await suggestionEntries(m, null)).toBe(1);

    const outsider = await suggestHttp({ description_projet, company_id: companyA }, { token: eve.jwt });
    expect(outsider.status).toBe(403);
    expect(outsider.json.error.code).toBe('forbidden');
    const anon = await suggestHttp({ description_projet, company_id: companyA });
    expect(anon.status).toBe(401);
    expect(anon.json.error.code).toBe('unauthorized');
    expect(await simCalls(m)).toBe(2);
  });
});

describe('ai-suggest: request validation', () => {
  it.each([
    ['a missing description', {}, /description_projet: is required/],
    ['an empty description', { description_projet: '' }, /description_projet: must not be empty/],
    ['a blank description', { description_projet: ' \n\t ' }, /description_projet: must not be empty/],
    ['a too short description', { description_projet: 'ab' }, /description_projet: must be at least 3 characters/],
    [
      'a too long description',
      { description_projet: 'x'.repeat(2001) },
      /description_projet: must be at most 2000 characters/,
    ],
    ['a non-string description', { description_projet: 42 }, /description_projet: must be a string/],
    ['an invalid company_id', { description_projet: 'Un blog', company_id: 'acme' }, /company_id: must be a UUID/],
    ['an unknown field', { description_projet: 'Un blog', budget: 1000 }, /budget/],
  ])('rejects %s with a clear 400', async (_label, body, message) => {
    const r = await suggestHttp(body);
    expect(r.status).toBe(400);
    expect(r.json.success).toBe(false);
    expect(r.json.error.code).toBe('invalid_request');
    expect(r.json.error.message).toMatch(message);
  });

  it('measures the length in characters, after collapsing whitespace', async () => {
    const m = marker('len');
    const padded = `${m} ${'é'.repeat(1980 - m.length)}${' '.repeat(500)}`;
    const r = await suggestHttp({ description_projet: padded }, { headers: { 'cache-control': 'no-store' } });
    expect(r.status).toBe(200);
  });

  it('rejects invalid JSON, oversized bodies, other methods and missing credentials', async () => {
    const bad = await suggestHttp(null, { raw: '{"description_projet": ' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('invalid_json');

    const huge = await suggestHttp({ description_projet: 'x'.repeat(200 * 1024) });
    expect(huge.status).toBe(413);
    expect(huge.json.error.code).toBe('payload_too_large');

    const get = await fetch(`${FUNCTIONS_URL}/ai-suggest`, { headers: { authorization: `Bearer ${ANON_KEY}` } });
    expect(get.status).toBe(405);
    await get.text();

    const noAuth = await fetch(`${FUNCTIONS_URL}/ai-suggest`, {
      method: 'POST',
      body: '{"description_projet":"Un blog"}',
    });
    expect(noAuth.status).toBe(401);
    await noAuth.text();
    const badAuth = await suggestHttp({ description_projet: 'Un blog' }, { token: 'not-a-jwt' });
    expect(badAuth.status).toBe(401);
  });

  it('the body schema trims and normalizes the description it passes on', () => {
    const parsed = Body.parse({ description_projet: '  Cafe\u0301   en   ligne \n' });
    expect(parsed.description_projet).toBe('Café en ligne');
  });
});

describe('ai-suggest: per-request cache controls', () => {
  it('only-if-cached answers 504 on a miss without calling the model, and the entry on a hit', async () => {
    const m = marker('oic');
    const miss = await suggestHttp({ description_projet: `Portfolio photo ${m}` }, {
      headers: { 'cache-control': 'only-if-cached' },
    });
    expect(miss.status).toBe(504);
    expect(miss.json.error.code).toBe('not_cached');
    expect(await simCalls(m)).toBe(0);
    await suggestHttp({ description_projet: `Portfolio photo ${m}` });
    const hit = await suggestHttp({ description_projet: `Portfolio photo ${m}` }, {
      headers: { 'cache-control': 'only-if-cached' },
    });
    expect(hit.status).toBe(200);
    expect(hit.xcache).toBe('HIT');
  });

  it('no-store neither reads nor writes; no-cache skips the read but stores', async () => {
    const m = marker('nostore');
    const a = await suggestHttp({ description_projet: `Landing page ${m}` }, {
      headers: { 'cache-control': 'no-store' },
    });
    expect(a.status).toBe(200);
    expect(a.xcache).toBe('BYPASS');
    expect(a.json.from_cache).toBe(false);
    expect(await suggestionEntries(m)).toBe(0);

    const b = await suggestHttp({ description_projet: `Landing page ${m}` }, {
      headers: { 'cache-control': 'no-cache' },
    });
    expect(b.xcache).toBe('BYPASS');
    expect(await suggestionEntries(m)).toBe(1);
    const c = await suggestHttp({ description_projet: `Landing page ${m}` });
    expect(c.xcache).toBe('HIT');
    expect(await simCalls(m)).toBe(2);
  });

  it('honours X-Cache-TTL', async () => {
    const m = marker('ttl');
    await suggestHttp({ description_projet: `Blog culinaire ${m}` }, { headers: { 'x-cache-ttl': '120' } });
    const [row] =
      await adminSql()`select extract(epoch from expires_at - created_at)::int as ttl from public.ai_cache where request::text like ${
        '%' + m + '%'
      }`;
    expect(row.ttl).toBe(120);
  });
});

describe('ai-suggest: model failures and invalid output', () => {
  it('never caches a refused answer: one repair attempt, then a 502', async () => {
    const m = marker('refuse');
    const description_projet = `Site de paris en ligne ${m} [[refuse]]`;
    const r = await suggestHttp({ description_projet });
    expect(r.status).toBe(502);
    expect(r.json.error.code).toBe('invalid_model_output');
    expect(r.xcache).toBe('MISS');
    expect(await simCalls(m)).toBe(2); // the call and its repair
    expect(await suggestionEntries(m)).toBe(0);

    const again = await suggestHttp({ description_projet });
    expect(again.status).toBe(502);
    expect(await simCalls(m)).toBe(4);
    expect(await suggestionEntries(m)).toBe(0);
  });

  it('never caches a malformed model response, and the next request calls the model again', async () => {
    const m = marker('malformed');
    await simFault({ type: 'malformed', match: m });
    const r = await suggestHttp({ description_projet: `Application web SaaS ${m}` });
    expect(r.status).toBe(502);
    expect(r.json.error.code).toBe('model_unavailable');
    expect(await suggestionEntries(m)).toBe(0);
    const next = await suggestHttp({ description_projet: `Application web SaaS ${m}` });
    expect(next.status).toBe(200);
    expect(next.xcache).toBe('MISS');
    expect(expectContract(next.json)).toEqual([]);
  });

  it('serves an expired entry as STALE when the model fails', async () => {
    const m = marker('stale');
    const fresh = await suggestHttp({ description_projet: `Refonte de site ${m}` });
    await adminSql()`update public.ai_cache set created_at = now() - interval '2 days', expires_at = now() - interval '1 day' where request::text like ${
      '%' + m + '%'
    }`;
    await simFault({ type: 'status', status: 500, count: 3, match: m });
    const stale = await suggestHttp({ description_projet: `Refonte de site ${m}` });
    expect(stale.status).toBe(200);
    expect(stale.xcache).toBe('STALE');
    expect(stale.json).toEqual({ ...fresh.json, from_cache: true });
  });

  it('makes one upstream call for concurrent identical misses', async () => {
    const m = marker('flight');
    await simFault({ type: 'delay', ms: 300, match: m });
    // The service role is not rate limited, so the burst measures single-flight only.
    const results = await Promise.all(
      Array.from(
        { length: 30 },
        () => suggestHttp({ description_projet: `Site associatif ${m}` }, { token: SERVICE_TOKEN }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(30).fill(200));
    expect(await simCalls(m)).toBe(1);
    expect(results.filter((r) => r.xcache === 'MISS')).toHaveLength(1);
    expect(new Set(results.map((r) => JSON.stringify(r.json.suggestions))).size).toBe(1);
  });
});

describe('ai-suggest: rate limits', () => {
  it('limits a signed-in user to their bucket: 429 with Retry-After, other users unaffected', async () => {
    const carol = await createUser('carol');
    const m = marker('rl-user');
    let allowed = 0;
    let refused: Awaited<ReturnType<typeof suggestHttp>> | undefined;
    for (let i = 0; i < 40 && !refused; i++) {
      const r = await suggestHttp({ description_projet: `Site vitrine ${m}` }, { token: carol.jwt });
      if (r.status === 429) refused = r;
      else {
        expect(r.status).toBe(200);
        allowed++;
      }
    }
    expect(refused, 'no 429 within 40 requests').toBeDefined();
    expect(allowed).toBeGreaterThanOrEqual(20); // the default burst
    expect(allowed).toBeLessThanOrEqual(22); // plus what refilled meanwhile (20/min)
    expect(refused!.json.error.code).toBe('rate_limited');
    expect(refused!.json.success).toBe(false);
    const retryAfter = Number(refused!.retryAfter);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3);
    expect(refused!.res.headers.get('x-ratelimit-remaining')).toBe('0');

    const other = await suggestHttp({ description_projet: `Site vitrine ${m}` }, { token: bob.jwt });
    expect(other.status).toBe(200);
    expect((await bucketRow(`ai-suggest:user:${carol.id}`))?.tokens).toBeLessThan(1);
  });

  it('keys anonymous callers by the address the gateway saw, not by what they claim', async () => {
    const spoofed = `198.51.100.${randomInt(1, 255)}`;
    const before = Date.now();
    const r = await suggestHttp({ description_projet: 'Site web pour mon restaurant' }, {
      headers: { 'x-forwarded-for': spoofed },
    });
    expect(r.status).toBe(200);
    expect(Number(r.res.headers.get('x-ratelimit-limit'))).toBeGreaterThan(0);
    expect(await bucketRow(`ai-suggest:ip:${spoofed}`)).toBeUndefined();
    const own = await bucketRow('ai-suggest:ip:127.0.0.1');
    expect(own).toBeDefined();
    expect(own!.updated_at.getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  it('limits an anonymous client address: 429 with Retry-After once its bucket is empty', async () => {
    // A source address of our own on the loopback network: a client nobody else shares.
    const address = `127.${randomInt(1, 250)}.${randomInt(1, 250)}.${randomInt(2, 250)}`;
    const m = marker('rl-anon');
    let allowed = 0;
    let refused: { status: number; retryAfter: string | null; json: any } | undefined;
    for (let i = 0; i < 100 && !refused; i++) {
      const r = await suggestFromAddress(address, { description_projet: `Blog de voyage ${m}` });
      if (r.status === 429) refused = r;
      else {
        expect(r.status).toBe(200);
        allowed++;
      }
    }
    expect(refused, 'no 429 within 100 anonymous requests').toBeDefined();
    expect(allowed).toBeGreaterThanOrEqual(60); // the default anonymous burst
    expect(refused!.json.error.code).toBe('rate_limited');
    expect(Number(refused!.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(await bucketRow(`ai-suggest:ip:${address}`)).toBeDefined();
    // The shared loopback address (other suites) kept its own bucket.
    const shared = await suggestHttp({ description_projet: `Blog de voyage ${m}` });
    expect(shared.status).toBe(200);
  });

  it('never lets concurrent takes overdraw a bucket', async () => {
    const sql = postgres(DB_URL, { max: 10, onnotice: () => {} });
    try {
      const bucket = `test:concurrent:${marker()}`;
      const results = await Promise.all(
        Array.from(
          { length: 40 },
          () => sql`select public.rate_limit_take(${bucket}, 10, 0.001) as r`.then((rows) => rows[0].r),
        ),
      );
      expect(results.filter((r) => r.allowed)).toHaveLength(10);
      expect(results.filter((r) => !r.allowed).every((r) => r.retry_after_seconds > 0)).toBe(true);
      await sql`delete from private.rate_limit_buckets where bucket = ${bucket}`;
    } finally {
      await sql.end();
    }
  });
});

describe('ai-suggest: building blocks', () => {
  it('the cache key normalizes case, whitespace and Unicode form, and separates scopes and models', async () => {
    const k = async (d: string, scope = 'global', model = 'gpt-4o-mini') =>
      (await suggestCacheKey(d, scope, model)).key;
    const base = await k('Site web pour mon Café');
    expect(await k('  site   WEB pour\tmon cafe\u0301 ')).toBe(base);
    expect(await k('Site web pour mon Café', 'global', ' GPT-4o-mini ')).toBe(base);
    expect(await k('Site web pour mon Café', '7f8c6f86-0f7a-4c4e-9a55-0d5c1e0f3b8a')).not.toBe(base);
    expect(await k('Site web pour mon Café', 'global', 'gpt-4o')).not.toBe(base);
    expect(await k('Site web pour mon thé')).not.toBe(base);
    const { canonical } = await suggestCacheKey('Site', 'global', 'gpt-4o-mini');
    expect(canonical).toMatchObject({
      cache_type: 'suggestions',
      scope: 'global',
      prompt_version: PROMPT_VERSION,
      description: 'site',
    });
  });

  it('the JSON Schema sent to the model and the validator agree', () => {
    for (const seed of ['a', 'b', 'c', 'd', 'e']) {
      const sample = sampleFromSchema(ANSWER_JSON_SCHEMA, seed);
      expect(Answer.safeParse(sample).success).toBe(true);
    }
    const valid = Answer.parse(sampleFromSchema(ANSWER_JSON_SCHEMA, 'x'));
    expect(Answer.safeParse({ ...valid, extra: 1 }).success).toBe(false);
    expect(Answer.safeParse({ ...valid, suggestions: { ...valid.suggestions, nombre_pages: 2.5 } }).success).toBe(
      false,
    );
    expect(Answer.safeParse({ ...valid, suggestions: { ...valid.suggestions, type_projet: 'fusée' } }).success).toBe(
      false,
    );
    expect(Answer.safeParse({ ...valid, explication: '   ' }).success).toBe(false);
  });

  it('structured output: an invalid answer gets one repair attempt that restates the problem', async () => {
    const valid = JSON.stringify(sampleFromSchema(ANSWER_JSON_SCHEMA, 'r'));
    const fake = fakeModel([
      { content: '{"suggestions": {"type_projet": "site_vitrine"}}', finish_reason: 'stop' },
      { content: valid, finish_reason: 'stop' },
    ]);
    const out = await completeStructured(fake.client, request());
    expect(out.attempts).toBe(2);
    expect(out.value).toEqual(JSON.parse(valid));
    expect(out.usage.total_tokens).toBe(30);
    const repair = fake.requests[1].messages;
    expect(repair).toHaveLength(4);
    expect(repair[2]).toEqual({ role: 'assistant', content: '{"suggestions": {"type_projet": "site_vitrine"}}' });
    expect(repair[3].content).toMatch(/did not match the schema.*nombre_pages/);
    expect(fake.requests[0].response_format).toMatchObject({ type: 'json_schema', json_schema: { strict: true } });
  });

  it('structured output: two invalid answers (truncated, not JSON) are an InvalidModelOutputError', async () => {
    const fake = fakeModel([
      { content: '{"suggestions": {"type_', finish_reason: 'length' },
      { content: 'Voici mes suggestions !', finish_reason: 'stop' },
    ]);
    const err = await completeStructured(fake.client, request()).catch((e) => e);
    expect(err).toBeInstanceOf(InvalidModelOutputError);
    expect(err.problems).toEqual([expect.stringMatching(/cut short/), expect.stringMatching(/not valid JSON/)]);
    expect(err.usage.total_tokens).toBe(30);
  });

  it('client addresses: only the trusted hop counts, normalized', () => {
    const h = (xff: string) => new Headers({ 'x-forwarded-for': xff });
    expect(clientAddress(h('6.6.6.6, 203.0.113.9'), 1)).toBe('203.0.113.9');
    expect(clientAddress(h('6.6.6.6, 203.0.113.9, 10.0.0.2'), 2)).toBe('203.0.113.9');
    expect(clientAddress(h('203.0.113.9'), 2)).toBe('203.0.113.9');
    expect(clientAddress(new Headers(), 1, '192.0.2.4')).toBe('192.0.2.4');
    expect(clientAddress(h('6.6.6.6'), 0, '192.0.2.4')).toBe('192.0.2.4');
    expect(normalizeAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeAddress('203.0.113.9:4711')).toBe('203.0.113.9');
    expect(normalizeAddress('[2001:db8:1:2:3:4:5:6]:443')).toBe('2001:db8:1:2::/64');
    expect(normalizeAddress('2001:DB8:1:2::7')).toBe('2001:db8:1:2::/64');
    expect(normalizeAddress('not an address')).toBeNull();
    expect(normalizeAddress('999.1.1.1')).toBeNull();
  });

  it('buckets: one per user, one per address for anonymous callers, none for the service role', () => {
    const req = new Request('http://x', { headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.9' } });
    expect(bucketFor({ role: 'authenticated', userId: 'u1' }, req)).toBe('ai-suggest:user:u1');
    expect(bucketFor({ role: 'anon', userId: null }, req)).toBe('ai-suggest:ip:203.0.113.9');
    expect(bucketFor({ role: 'service_role', userId: null }, req)).toBeNull();
  });
});

// A stand-in for the openai SDK client that returns canned completions and records requests.
function fakeModel(answers: Array<{ content: string; finish_reason: string }>) {
  const requests: any[] = [];
  const client = {
    chat: {
      completions: {
        create: async (body: any) => {
          requests.push(body);
          const a = answers[requests.length - 1];
          return {
            id: 'x',
            object: 'chat.completion',
            created: 0,
            model: body.model,
            choices: [{
              index: 0,
              message: { role: 'assistant', content: a.content, refusal: null },
              finish_reason: a.finish_reason,
              logprobs: null,
            }],
            usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
          };
        },
      },
    },
  };
  return { client: client as any, requests };
}

function request() {
  return {
    model: 'gpt-4o-mini',
    messages: [{ role: 'system' as const, content: 'sys' }, {
      role: 'user' as const,
      content: 'Description du projet : blog',
    }],
    schemaName: 'project_suggestions',
    jsonSchema: ANSWER_JSON_SCHEMA as unknown as Record<string, unknown>,
    validator: Answer,
    repairPrompt: (problem: string) => `Invalid: ${problem}. Description: blog`,
  };
}
