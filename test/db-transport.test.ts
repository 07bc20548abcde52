// The one RPC seam (supabase/functions/_shared/rpc.ts) over both transports: supabase-js
// `.rpc()` through /rest/v1, and the direct Postgres pool. Same RPCs, same results, same
// errors, the same role and claims inside the database, and a deadline on every call.
import { createClient } from '@supabase/supabase-js';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  adminSql,
  ANON_KEY,
  createCompany,
  createUser,
  DB_URL,
  marker,
  SERVICE_ROLE_KEY,
  SUPABASE_URL,
} from './helpers/stack.ts';

type Seam = typeof import('../supabase/functions/_shared/rpc.ts');
type Pg = typeof import('../supabase/functions/_shared/pg-rpc.ts');

const opts = { auth: { persistSession: false, autoRefreshToken: false } };
const service = createClient(SUPABASE_URL, SERVICE_ROLE_KEY, opts);
const anon = createClient(SUPABASE_URL, ANON_KEY, opts);
const loaded: Pg[] = [];

/** A fresh copy of the seam configured for `transport` (the choice is read once, at load). */
async function seam(transport: 'postgres' | 'rest', timeoutMs = 5000): Promise<Seam> {
  vi.resetModules();
  vi.stubEnv('AI_CACHE_DB_TRANSPORT', transport);
  vi.stubEnv('AI_DB_TIMEOUT_MS', String(timeoutMs));
  vi.stubEnv('SUPABASE_DB_URL', DB_URL);
  vi.stubEnv('SUPABASE_SERVICE_ROLE_KEY', SERVICE_ROLE_KEY);
  const mod = await import('../supabase/functions/_shared/rpc.ts');
  // The configuration is read once, at boot, as in a function: here, while the env is stubbed.
  (await import('../supabase/functions/_shared/config.ts')).config();
  loaded.push(await import('../supabase/functions/_shared/pg-rpc.ts'));
  vi.unstubAllEnvs();
  return mod;
}

/** The outcome of a call as the functions see it: the data, or the HttpError's status/code/message. */
async function outcome(p: Promise<unknown>) {
  try {
    return { data: await p };
  } catch (e) {
    const err = e as { status?: number; code?: string; message: string };
    return { status: err.status, code: err.code, message: err.message };
  }
}

afterAll(async () => {
  for (const pg of loaded) await pg.closePgPool();
});

describe.each(['postgres', 'rest'] as const)('callRpc over %s', (transport) => {
  it('reports the transport it was configured with', async () => {
    expect((await seam(transport)).TRANSPORT).toBe(transport);
  });

  it('returns jsonb results as objects and void results as null', async () => {
    const { callRpc } = await seam(transport);
    const owner = await createUser('transport');
    const company = await createCompany([[owner, 'owner']]);
    const taken = await callRpc(service, 'rate_limit_take', {
      p_bucket: marker('bucket'),
      p_capacity: 3,
      p_refill_per_second: 1 / 60,
      p_cost: 1,
    });
    expect(taken).toEqual({ allowed: true, remaining: 2, limit: 3, retry_after_seconds: 0 });
    expect(await callRpc(service, 'assert_member', { p_user_id: owner.id, p_company_id: company })).toBeNull();
  });

  it('maps SQLSTATEs to the same HTTP errors', async () => {
    const { callRpc } = await seam(transport);
    const stranger = await createUser('stranger');
    const company = await createCompany([[await createUser('owner'), 'owner']]);
    expect(await outcome(callRpc(service, 'assert_member', { p_user_id: stranger.id, p_company_id: company })))
      .toMatchObject({ status: 403, code: 'forbidden' });
    expect(await outcome(callRpc(service, 'assert_member', { p_user_id: 'not-a-uuid', p_company_id: company })))
      .toMatchObject({ status: 400, code: 'invalid_request' });
  });

  it('runs as the caller: the anon key cannot execute a service-role RPC', async () => {
    const { callRpc } = await seam(transport);
    const r = await outcome(
      callRpc(anon, 'rate_limit_take', { p_bucket: marker('anon'), p_capacity: 1, p_refill_per_second: 1, p_cost: 1 }),
    );
    expect(r).toMatchObject({ status: 403, code: 'forbidden' });
  });

  it('treats quotes and backslashes in values as data', async () => {
    const { callRpc } = await seam(transport);
    const bucket = `${marker('q')} it's a \\ "bucket"; select 1; --`;
    await callRpc(service, 'rate_limit_take', { p_bucket: bucket, p_capacity: 5, p_refill_per_second: 1, p_cost: 1 });
    const [row] = await adminSql()`select bucket from private.rate_limit_buckets where bucket = ${bucket}`;
    expect(row?.bucket).toBe(bucket);
  });

  it('answers 503 database_unavailable when a call passes its deadline', async () => {
    const { callRpc } = await seam(transport, 300);
    const bucket = marker('locked');
    await callRpc(service, 'rate_limit_take', { p_bucket: bucket, p_capacity: 5, p_refill_per_second: 1, p_cost: 1 });
    // Another session holds the bucket's row: the take waits on the lock until the deadline.
    const sql = adminSql();
    const r = await sql.begin(async (tx) => {
      await tx`select 1 from private.rate_limit_buckets where bucket = ${bucket} for update`;
      return outcome(
        callRpc(service, 'rate_limit_take', { p_bucket: bucket, p_capacity: 5, p_refill_per_second: 1, p_cost: 1 }),
      );
    });
    expect(r).toMatchObject({ status: 503, code: 'database_unavailable' });
  });
});

describe('the direct transport', () => {
  it('builds the call from named arguments, values as quoted literals', async () => {
    const { callSql } = await seam('postgres').then(() => loaded[loaded.length - 1]);
    expect(callSql('cache_lookup', { p_key: "a'b", p_n: 1, p_skip: undefined, p_obj: { x: 1 }, p_null: null }))
      .toBe(`select "public"."cache_lookup"("p_key" => 'a''b', "p_n" => '1', "p_obj" => '{"x":1}', "p_null" => null)`);
    expect(() => callSql('x; drop table y', {})).toThrow(/invalid function name/);
    // With the catalog's parameter kinds, values convert as PostgREST converts JSON.
    expect(
      callSql('f', { p_doc: 'text', p_tags: ['a', 'b"c', null], p_n: [1] }, {
        p_doc: 'json',
        p_tags: 'array',
        p_n: 'json',
      }),
    )
      .toBe(`select "public"."f"("p_doc" => '"text"', "p_tags" => '{"a","b\\"c",NULL}', "p_n" => '[1]')`);
  });

  it('gives identical answers to identical calls over both transports', async () => {
    const pg = await seam('postgres');
    const rest = await seam('rest');
    const a = await outcome(
      pg.callRpc(service, 'rate_limit_take', {
        p_bucket: marker('same-a'),
        p_capacity: 10,
        p_refill_per_second: 0.5,
        p_cost: 3,
      }),
    );
    const b = await outcome(
      rest.callRpc(service, 'rate_limit_take', {
        p_bucket: marker('same-b'),
        p_capacity: 10,
        p_refill_per_second: 0.5,
        p_cost: 3,
      }),
    );
    expect(a).toEqual(b);
    const bad = { p_bucket: '', p_capacity: 1, p_refill_per_second: 1, p_cost: 1 };
    expect(await outcome(pg.callRpc(service, 'rate_limit_take', bad))).toEqual(
      await outcome(rest.callRpc(service, 'rate_limit_take', bad)),
    );
  });
});
