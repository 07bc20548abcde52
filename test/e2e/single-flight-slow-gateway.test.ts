// ai-gateway's single-flight when the model is slower than the lease, through the official
// openai SDK: the real function under a short AI_CACHE_LEASE_MS and AI_MODEL_DEADLINE_MS (a
// second functions host with those secrets, same database and simulated model as the stack).
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatCompletionKeys } from '../../supabase/functions/ai-gateway/keys.ts';
import {
  adminSql,
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
const MODEL = 'gpt-4o-mini';

let fns: TunedFunctions;
let user: TestUser;
let company: string;

beforeAll(async () => {
  fns = await startTunedFunctions({ AI_CACHE_LEASE_MS: String(LEASE_MS), AI_MODEL_DEADLINE_MS: String(DEADLINE_MS) });
  user = await createUser('gw-slow');
  company = await createCompany([[user, 'owner']]);
});

afterAll(async () => {
  await fns?.close();
  await closeAdminSql();
});

function client(companyId = company): OpenAI {
  return new OpenAI({
    apiKey: user.jwt,
    baseURL: `${fns.url}/ai-gateway/v1`,
    defaultHeaders: { 'X-Company-Id': companyId },
    maxRetries: 0,
  });
}

const ask = (m: string) => ({ model: MODEL, messages: [{ role: 'user' as const, content: `Explain ${m}` }] });

describe('ai-gateway single-flight with a model slower than the lease', () => {
  it(
    '30 identical concurrent chat completions make exactly one upstream call and all get the same answer',
    async () => {
      const m = marker('gw-slow-chat');
      await simFault({ type: 'delay', ms: SLOW_MODEL_MS, match: m });
      const openai = client();
      const results = await Promise.all(
        Array.from({ length: 30 }, () => openai.chat.completions.create(ask(m)).withResponse()),
      );
      expect(await simCalls(m)).toBe(1);
      const statuses = results.map((r) => r.response.headers.get('x-cache'));
      expect(statuses.filter((s) => s === 'MISS')).toHaveLength(1);
      expect(statuses.every((s) => ['MISS', 'COALESCED', 'HIT'].includes(s!))).toBe(true);
      expect(new Set(results.map((r) => JSON.stringify(r.data))).size).toBe(1);
      expect(results[0]!.data.choices[0]!.message.content).toContain(m);
    },
    60_000,
  );

  it('a streamed leader renews its lease while the model works; followers get the same answer', async () => {
    const m = marker('gw-slow-stream');
    await simFault({ type: 'delay', ms: SLOW_MODEL_MS, match: m });
    const openai = client();
    const results = await Promise.all(Array.from({ length: 10 }, async () => {
      const { data, response } = await openai.chat.completions.create({ ...ask(m), stream: true }).withResponse();
      let text = '';
      for await (const chunk of data) text += chunk.choices[0]?.delta?.content ?? '';
      return { xcache: response.headers.get('x-cache'), text };
    }));
    expect(await simCalls(m)).toBe(1);
    expect(results.filter((r) => r.xcache === 'MISS')).toHaveLength(1);
    expect(new Set(results.map((r) => r.text)).size).toBe(1);
    expect(results[0]!.text).toContain(m);
  }, 60_000);
});

describe.concurrent('ai-gateway leases and deadlines', () => {
  it(
    "a follower answers 503 coalesce_timeout in OpenAI's shape at its deadline, without calling the model",
    async () => {
      const m = marker('gw-stuck');
      const own = await createCompany([[user, 'owner']]);
      const body = ask(m);
      const { keys } = await chatCompletionKeys(body, 'chat', own);
      await adminSql()`insert into private.ai_cache_leases (company_id, cache_key, cache_type, owner, expires_at)
                     values (${own}, ${keys.company}, 'chat', 'busy-leader', now() + interval '10 minutes')`;
      const err = await client(own).chat.completions.create(body).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      const e = err as InstanceType<typeof OpenAI.APIError>;
      expect(e.status).toBe(503);
      expect(e.code).toBe('coalesce_timeout');
      expect(Number(e.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await simCalls(m)).toBe(0);
    },
    60_000,
  );

  it('ends a model call that outlives the deadline with 504 model_timeout, nothing cached, no lease left', async () => {
    const m = marker('gw-too-slow');
    const own = await createCompany([[user, 'owner']]);
    await simFault({ type: 'delay', ms: DEADLINE_MS * 3, match: m });
    const err = await client(own).chat.completions.create(ask(m)).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(504);
    expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('model_timeout');
    expect(Number((await adminSql()`select count(*)::int as n from public.ai_cache where company_id = ${own}`)[0].n))
      .toBe(0);
    expect(
      Number((await adminSql()`select count(*)::int as n from private.ai_cache_leases where company_id = ${own}`)[0].n),
    ).toBe(0);
  }, 60_000);
});
