import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, startSuite, type Suite } from './fixture.ts';

let s: Suite;
beforeAll(async () => {
  s = await startSuite('rest_fixture_rpc');
}, 120_000);
afterAll(async () => {
  await s?.close();
});

describe('/rpc result kinds', () => {
  it('returns a scalar as a bare JSON value, by POST and by GET', async () => {
    expect(await s.anon.rpc('add_them', { a: 2, b: 3 })).toMatchObject({ data: 5, error: null, status: 200 });
    expect(await s.anon.rpc('add_them', { a: 2, b: 40 }, { get: true })).toMatchObject({ data: 42, status: 200 });
    expect((await s.anon.rpc('hello', { name: 'Ada' })).data).toBe('Hello, Ada');
  });

  it('omits arguments that have defaults and returns null scalars as null', async () => {
    expect((await s.anon.rpc('hello')).data).toBe('Hello, world');
    expect(await s.anon.rpc('nothing_here')).toMatchObject({ data: null, error: null, status: 200 });
  });

  it('returns a composite (table row, OUT params) as an object', async () => {
    const row = await s.anon.rpc('item_by_id', { p_id: 2 });
    expect(row.data).toMatchObject({ id: 2, name: 'banana', price: 0.5, data: { color: 'yellow' } });
    expect((await s.anon.rpc('square_and_double', { x: 4 })).data).toEqual({ doubled: 8, squared: 16 });
  });

  it('returns setof/table results as arrays that select, filters, order and limit apply to', async () => {
    const all = await s.anon.rpc('items_in', { p_category: 'fruit' });
    expect((all.data as { id: number }[]).map((r) => r.id)).toEqual([1, 2, 4, 6]);
    const shaped = await s.anon.rpc('items_in', { p_category: 'fruit' }).select('id,name').gt('price', 1).order(
      'price',
      { ascending: false },
    ).limit(2);
    expect(shaped.data).toEqual([{ id: 6, name: 'fig, dried' }, { id: 4, name: 'date' }]);
    expect((await s.anon.rpc('category_counts')).data).toEqual([
      { category: 'fruit', n: 4 },
      { category: 'nut', n: 1 },
      { category: 'vegetable', n: 4 },
    ]);
    expect((await s.anon.rpc('int_series', { n: 3 })).data).toEqual([1, 2, 3]);
  });

  it('counts rpc rows with Prefer: count=exact and honours single()', async () => {
    const counted = await s.anon.rpc('items_in', { p_category: 'vegetable' }, { count: 'exact' }).range(0, 1);
    expect(counted).toMatchObject({ count: 4, status: 206 });
    expect((counted.data as unknown[]).length).toBe(2);
    const one = await s.anon.rpc('items_in', { p_category: 'nut' }).single();
    expect(one.data).toMatchObject({ id: 8, name: 'Hazelnut' });
    const many = await s.anon.rpc('items_in', { p_category: 'fruit' }).single();
    expect(many.status).toBe(406);
    expect(many.error).toMatchObject({ code: 'PGRST116', details: 'The result contains 4 rows' });
  });

  it('answers 204 with no body for void functions', async () => {
    const r = await s.alice.rpc('touch_note', { p_id: 1 });
    expect(r).toMatchObject({ data: null, error: null, status: 204 });
  });

  it('casts arguments to the parameter types, arrays and json included', async () => {
    expect((await s.anon.rpc('sum_array', { vals: [1, 2, 3, 4] })).data).toBe(10);
    const bad = await s.anon.rpc('add_them', { a: 'x', b: 1 });
    expect(bad.status).toBe(400);
    expect(bad.error).toMatchObject({ code: '22P02', message: 'invalid input syntax for type integer: "x"' });
  });

  it('passes the whole body to a single unnamed json parameter', async () => {
    const body = { any: ['shape', 1, { nested: true }] };
    expect((await s.anon.rpc('echo_json', body)).data).toEqual(body);
  });

  it('accepts Prefer: params=single-object for a single json parameter', async () => {
    const r = await s.fetchRest('/rpc/echo_json', {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'params=single-object' },
      body: '[1,2]',
    });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual([1, 2]);
  });

  it('resolves overloads by argument names and reports ambiguity as PGRST203', async () => {
    expect((await s.anon.rpc('overloaded', { a: 1 })).data).toBe('one:1');
    expect((await s.anon.rpc('overloaded', { a: 1, b: 2 })).data).toBe('two:3');
    const amb = await s.anon.rpc('ambiguous', { x: 1 });
    expect(amb.status).toBe(300);
    expect(amb.error).toEqual({
      code: 'PGRST203',
      details: null,
      hint:
        'Try renaming the parameters or the function itself in the database so function overloading can be resolved',
      message:
        'Could not choose the best candidate function between: public.ambiguous(x => integer), public.ambiguous(x => text)',
    });
  });

  it('runs the request settings PostgREST sets: role, claims, method, path, headers, read-only GET', async () => {
    const viaPost = await s.alice.rpc('whoami');
    expect(viaPost.data).toMatchObject({
      uid: ALICE,
      role: 'authenticated',
      claim_role: 'authenticated',
      method: 'POST',
      path: '/rpc/whoami',
      read_only: 'on', // stable function: read-only even by POST
      search_path: '"public", "extensions"',
      statement_timeout: '8s',
    });
    const anon = await s.fetchRest('/rpc/whoami', { headers: { 'x-test': 'seen' } });
    expect(await anon.json()).toMatchObject({
      uid: null,
      role: 'anon',
      method: 'GET',
      x_test: 'seen',
      statement_timeout: '3s',
    });
  });

  it('refuses GET for functions that write (read-only transaction) but runs them by POST', async () => {
    const get = await s.alice.rpc('touch_note', { p_id: 1 }, { get: true });
    expect(get.status).toBe(405);
    expect(get.error).toMatchObject({ code: '25006', message: 'cannot execute UPDATE in a read-only transaction' });
    const created = await s.alice.rpc('create_note', { p_title: 'from rpc' });
    expect(created.data).toMatchObject({ title: 'from rpc', owner_id: ALICE });
  });

  it('applies response.status and response.headers set by the function', async () => {
    const r = await s.fetchRest('/rpc/custom_response', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(r.status).toBe(202);
    expect(r.headers.get('x-custom')).toBe('yes');
    expect(await r.json()).toEqual({ accepted: true });
  });
});

describe('/rpc errors', () => {
  it('maps RAISE EXCEPTION (P0001) to 400 with message, details and hint', async () => {
    const r = await s.anon.rpc('fail_with', { msg: 'quota exceeded' });
    expect(r.status).toBe(400);
    expect(r.error).toEqual({ code: 'P0001', details: 'some detail', hint: 'some hint', message: 'quota exceeded' });
  });

  it('maps PTxxx codes to their status and RAISE SQLSTATE PGRST to the given response', async () => {
    const pt = await s.anon.rpc('payment_required');
    expect(pt.status).toBe(402);
    expect(pt.error).toEqual({
      code: 'PT402',
      details: 'Quota exceeded',
      hint: 'Upgrade your plan',
      message: 'Payment Required',
    });
    const custom = await s.fetchRest('/rpc/raise_pgrst', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(custom.status).toBe(418);
    expect(custom.headers.get('x-teapot')).toBe('1');
    expect(await custom.json()).toEqual({ code: '123', details: 'D', hint: 'H', message: 'Custom' });
  });

  it('answers PGRST202 with a hint for an unknown function or wrong arguments', async () => {
    const unknown = await s.anon.rpc('add_thm', { a: 1, b: 2 });
    expect(unknown.status).toBe(404);
    expect(unknown.error).toEqual({
      code: 'PGRST202',
      details:
        'Searched for the function public.add_thm with parameters a, b or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.',
      hint: 'Perhaps you meant to call the function public.add_them',
      message: 'Could not find the function public.add_thm(a, b) in the schema cache',
    });
    const wrongArgs = await s.anon.rpc('add_them', { a: 1, c: 2 }, { get: true });
    expect(wrongArgs.error).toEqual({
      code: 'PGRST202',
      details:
        'Searched for the function public.add_them with parameters a, c, but no matches were found in the schema cache.',
      hint: 'Perhaps you meant to call the function public.add_them(a, b)',
      message: 'Could not find the function public.add_them(a, c) in the schema cache',
    });
  });

  it('keeps security definer functions behind their grants: 401 for anon, works for a user', async () => {
    const anon = await s.anon.rpc('count_all_notes');
    expect(anon.status).toBe(401);
    expect(anon.error).toMatchObject({ code: '42501', message: 'permission denied for function count_all_notes' });
    const user = await s.alice.rpc('count_all_notes');
    expect(user.status).toBe(200);
    expect(typeof user.data).toBe('number');
  });

  it('refuses other methods on /rpc with PGRST101', async () => {
    const r = await s.fetchRest('/rpc/hello', { method: 'DELETE' });
    expect(r.status).toBe(405);
    expect(await r.json()).toEqual({
      code: 'PGRST101',
      details: null,
      hint: null,
      message: 'Cannot use the DELETE method on RPC',
    });
  });

  it('rejects a malformed JSON body with PGRST102', async () => {
    const r = await s.fetchRest('/rpc/hello', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{nope',
    });
    expect(r.status).toBe(400);
    expect((await r.json()).code).toBe('PGRST102');
  });
});
