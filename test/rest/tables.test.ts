import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, BOB, startSuite, type Suite } from './fixture.ts';

let s: Suite;
beforeAll(async () => {
  s = await startSuite('rest_fixture_tables');
}, 120_000);
afterAll(async () => {
  await s?.close();
});

const ids = (rows: unknown) => (rows as { id: number }[]).map((r) => r.id);

describe('reading tables and views', () => {
  it('selects columns with aliases, casts and json paths', async () => {
    const r = await s.anon.from('items').select(
      'id, label:name, price::text, color:data->>color, country:data->origin->>country',
    ).eq('id', 1).single();
    expect(r.data).toEqual({ id: 1, label: 'apple', price: '1.20', color: 'red', country: 'FR' });
  });

  it('applies horizontal filters', async () => {
    const q = () => s.anon.from('items').select('id').order('id');
    expect(ids((await q().eq('category', 'fruit')).data)).toEqual([1, 2, 4, 6]);
    expect(ids((await q().neq('category', 'fruit')).data)).toEqual([3, 5, 8, 9, 10]);
    expect(ids((await q().gt('price', 2)).data)).toEqual([4, 6, 8]);
    expect(ids((await q().gte('price', 2)).data)).toEqual([4, 5, 6, 8]);
    expect(ids((await q().lt('qty', 7)).data)).toEqual([5, 9]);
    expect(ids((await q().lte('qty', 7)).data)).toEqual([5, 6, 9]);
    expect(ids((await q().in('name', ['apple', 'fig, dried', 'nope'])).data)).toEqual([1, 6]);
    expect(ids((await q().is('category', null)).data)).toEqual([7]);
    expect(ids((await q().is('available', false)).data)).toEqual([4, 9]);
    expect(ids((await q().like('name', '%an%')).data)).toEqual([2, 5]);
    expect(ids((await q().ilike('name', 'h%')).data)).toEqual([8]);
    expect(ids((await q().not('category', 'is', null).not('category', 'in', '(fruit,vegetable)')).data)).toEqual([8]);
    expect(ids((await q().eq('data->>color', 'green')).data)).toEqual([9, 10]);
    expect(ids((await q().contains('data', { hot: true })).data)).toEqual([10]);
    expect(ids((await q().filter('name', 'like', '*rr*')).data)).toEqual([3]);
  });

  it('combines or/and logic trees, nested and negated', async () => {
    const r = await s.anon.from('items').select('id').or('qty.is.null,and(category.eq.vegetable,price.lt.0.5)').order(
      'id',
    );
    expect(ids(r.data)).toEqual([3, 4, 10]);
    const quoted = await s.anon.from('items').select('id').or('name.eq."fig, dried",name.eq.apple').order('id');
    expect(ids(quoted.data)).toEqual([1, 6]);
    const negated = await s.fetchRest(
      '/items?select=id&not.or=(category.eq.fruit,category.eq.vegetable,category.is.null)',
    );
    expect(ids(await negated.json())).toEqual([8]);
  });

  it('orders by several columns with nulls placement', async () => {
    const r = await s.anon.from('items').select('id').order('category', { ascending: true, nullsFirst: true }).order(
      'price',
      { ascending: false },
    ).limit(4);
    expect(ids(r.data)).toEqual([7, 6, 4, 1]);
  });

  it('paginates with limit/offset (range) and the Range header, with counts in Content-Range', async () => {
    const page = await s.anon.from('items').select('id', { count: 'exact' }).order('id').range(2, 4);
    expect(page).toMatchObject({ count: 10, status: 206 });
    expect(ids(page.data)).toEqual([3, 4, 5]);
    const hdr = await s.fetchRest('/items?select=id&order=id', {
      headers: { range: '8-20', 'range-unit': 'items', prefer: 'count=exact' },
    });
    expect(hdr.status).toBe(206);
    expect(hdr.headers.get('content-range')).toBe('8-9/10');
    const whole = await s.fetchRest('/items?select=id', { headers: { prefer: 'count=exact' } });
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-range')).toBe('0-9/10');
    const none = await s.fetchRest('/items?select=id&id=eq.999', { headers: { prefer: 'count=exact' } });
    expect(none.headers.get('content-range')).toBe('*/0');
    const beyond = await s.fetchRest('/items?select=id&offset=20', { headers: { prefer: 'count=exact' } });
    expect(beyond.status).toBe(416);
    expect(await beyond.json()).toMatchObject({
      code: 'PGRST103',
      details: 'An offset of 20 was requested, but there are only 10 rows.',
    });
  });

  it('answers HEAD with headers only, including the count', async () => {
    const r = await s.anon.from('items').select('*', { count: 'exact', head: true }).eq('category', 'fruit');
    expect(r).toMatchObject({ data: null, count: 4, status: 200, error: null });
    const planned = await s.anon.from('items').select('*', { count: 'planned', head: true });
    expect(typeof planned.count).toBe('number');
  });

  it('implements single() and maybeSingle() as supabase-js expects', async () => {
    expect((await s.anon.from('items').select('name').eq('id', 3).single()).data).toEqual({ name: 'carrot' });
    const none = await s.anon.from('items').select('name').eq('id', 999).single();
    expect(none.status).toBe(406);
    expect(none.error).toEqual({
      code: 'PGRST116',
      details: 'The result contains 0 rows',
      hint: null,
      message: 'JSON object requested, multiple (or no) rows returned',
    });
    expect(await s.anon.from('items').select('name').eq('id', 999).maybeSingle()).toMatchObject({
      data: null,
      error: null,
    });
    expect((await s.anon.from('items').select('name').eq('id', 2).maybeSingle()).data).toEqual({ name: 'banana' });
    expect((await s.anon.from('items').select('name').maybeSingle()).error?.code).toBe('PGRST116');
  });

  it('reads views, including security_invoker views under RLS', async () => {
    const totals = await s.anon.from('category_totals').select('category, n').order('category', { nullsFirst: true });
    expect(totals.data).toEqual([
      { category: null, n: 1 },
      { category: 'fruit', n: 4 },
      { category: 'nut', n: 1 },
      { category: 'vegetable', n: 4 },
    ]);
    expect((await s.anon.from('my_notes').select('*')).data).toEqual([]);
  });

  it('strips nulls when asked', async () => {
    const r = await s.anon.from('items').select('id, qty').eq('id', 4).stripNulls();
    expect(r.data).toEqual([{ id: 4 }]);
  });

  it('answers unknown tables and columns as PostgREST does', async () => {
    const table = await s.anon.from('itemz').select('*');
    expect(table.status).toBe(404);
    expect(table.error).toEqual({
      code: 'PGRST205',
      details: null,
      hint: "Perhaps you meant the table 'public.items'",
      message: "Could not find the table 'public.itemz' in the schema cache",
    });
    const column = await s.anon.from('items').select('nope');
    expect(column.status).toBe(400);
    expect(column.error).toMatchObject({ code: '42703', message: 'column items.nope does not exist' });
  });

  it('refuses what it does not implement with a clear 4xx instead of a wrong answer', async () => {
    const embed = await s.anon.from('items').select('id, ...notes(*)');
    expect(embed.status).toBe(400);
    expect(embed.error).toMatchObject({ code: 'PGRST127', message: 'Feature not implemented' });
    const csv = await s.anon.from('items').select('id').csv();
    expect(csv.status).toBe(406);
    expect(csv.error).toMatchObject({ code: 'PGRST107' });
    const badOp = await s.fetchRest('/items?id=like2.5');
    expect(badOp.status).toBe(400);
    expect((await badOp.json()).code).toBe('PGRST100');
  });
});

describe('writing under RLS with two users', () => {
  it('inserts rows owned by the caller and returns them on request', async () => {
    const one = await s.alice.from('notes').insert({ title: 'alice 1', tags: ['a', 'b'], meta: { k: 1 } }).select()
      .single();
    expect(one.status).toBe(201);
    expect(one.data).toMatchObject({
      title: 'alice 1',
      owner_id: ALICE,
      tags: ['a', 'b'],
      meta: { k: 1 },
      done: false,
    });
    const many = await s.bob.from('notes').insert([{ title: 'bob 1' }, { title: 'bob 2', body: 'b' }]).select(
      'title, body, owner_id',
    );
    expect(many.status).toBe(201);
    expect(many.data).toEqual([
      { title: 'bob 1', body: null, owner_id: BOB },
      { title: 'bob 2', body: 'b', owner_id: BOB },
    ]);
    const minimal = await s.alice.from('notes').insert({ title: 'alice 2' });
    expect(minimal).toMatchObject({ status: 201, data: null, error: null });
  });

  it('lets each user see only their own rows', async () => {
    const alice = await s.alice.from('notes').select('title').order('id');
    expect(alice.data?.map((r) => r.title)).toEqual(expect.arrayContaining(['alice 1', 'alice 2']));
    expect(alice.data?.some((r) => r.title.startsWith('bob'))).toBe(false);
    const bob = await s.bob.from('notes').select('title', { count: 'exact' });
    expect(bob.count).toBe(2);
    expect((await s.anon.from('notes').select('*')).data).toEqual([]);
  });

  it('refuses rows that break a policy with 403 for users and 401 for anon', async () => {
    const forged = await s.alice.from('notes').insert({ title: 'as bob', owner_id: BOB });
    expect(forged.status).toBe(403);
    expect(forged.error).toMatchObject({
      code: '42501',
      message: 'new row violates row-level security policy for table "notes"',
    });
    const anon = await s.anon.from('items').insert({ id: 99, name: 'nope' });
    expect(anon.status).toBe(401);
    expect(anon.error?.code).toBe('42501');
  });

  it('updates and deletes only the caller’s rows', async () => {
    const bobUpdate = await s.bob.from('notes').update({ done: true }).eq('title', 'alice 1').select();
    expect(bobUpdate).toMatchObject({ status: 200, data: [] });
    const aliceUpdate = await s.alice.from('notes').update({ done: true, priority: 5 }).eq('title', 'alice 1').select(
      'title, done, priority',
    );
    expect(aliceUpdate.data).toEqual([{ title: 'alice 1', done: true, priority: 5 }]);
    const minimal = await s.alice.from('notes').update({ body: 'x' }).eq('title', 'alice 2');
    expect(minimal.status).toBe(204);
    const bobDelete = await s.bob.from('notes').delete({ count: 'exact' }).eq('title', 'alice 2');
    expect(bobDelete).toMatchObject({ status: 204, count: 0 });
    const aliceDelete = await s.alice.from('notes').delete().eq('title', 'alice 2').select('title');
    expect(aliceDelete.data).toEqual([{ title: 'alice 2' }]);
  });

  it('rolls back a write whose result is not the single object asked for', async () => {
    const two = await s.bob.from('notes').update({ priority: 9 }).like('title', 'bob%').select().single();
    expect(two.status).toBe(406);
    expect(two.error?.code).toBe('PGRST116');
    const after = await s.bob.from('notes').select('priority').like('title', 'bob%');
    expect(after.data?.every((r) => r.priority === 0)).toBe(true);
  });

  it('maps constraint violations: unique 409, not null 400, bad input 400', async () => {
    const dup = await s.service.from('items').insert({ id: 1, name: 'dup' });
    expect(dup.status).toBe(409);
    expect(dup.error).toMatchObject({ code: '23505', details: 'Key (id)=(1) already exists.' });
    const missing = await s.alice.from('notes').insert({ body: 'no title' });
    expect(missing.status).toBe(400);
    expect(missing.error?.code).toBe('23502');
    const badType = await s.anon.from('items').select('id').eq('id', 'abc');
    expect(badType.status).toBe(400);
    expect(badType.error?.code).toBe('22P02');
  });

  it('rejects unknown payload columns with PGRST204', async () => {
    const r = await s.alice.from('notes').insert({ title: 't', colour: 'red' });
    expect(r.status).toBe(400);
    expect(r.error).toEqual({
      code: 'PGRST204',
      details: null,
      hint: null,
      message: "Could not find the 'colour' column of 'notes' in the schema cache",
    });
  });
});

describe('upserts', () => {
  it('merges duplicates (201 on insert, 200 when only updating) and ignores them on request', async () => {
    const first = await s.alice.from('settings').upsert({ key: 'theme', value: 'dark' }).select('key, value');
    expect(first).toMatchObject({ status: 201, data: [{ key: 'theme', value: 'dark' }] });
    const second = await s.alice.from('settings').upsert({ key: 'theme', value: 'light' }).select('key, value');
    expect(second).toMatchObject({ status: 200, data: [{ key: 'theme', value: 'light' }] });
    const ignored = await s.alice.from('settings').upsert({ key: 'theme', value: 'blue' }, { ignoreDuplicates: true })
      .select('key');
    expect(ignored.data).toEqual([]);
    expect((await s.alice.from('settings').select('value').eq('key', 'theme').single()).data).toEqual({
      value: 'light',
    });
  });

  it('uses on_conflict columns and missing=default for absent keys', async () => {
    await s.service.from('items').upsert({ id: 50, name: 'kiwi', category: 'fruit' });
    const merged = await s.service.from('items').upsert({ id: 51, name: 'kiwi', category: 'exotic' }, {
      onConflict: 'name',
    }).select('id, name, category');
    // As PostgREST: every payload column is merged, the key included.
    expect(merged.data).toEqual([{ id: 51, name: 'kiwi', category: 'exotic' }]);
    const rows = await s.alice.from('settings').insert([{ key: 'a', value: 1, note: 'set' }, { key: 'b', value: 2 }], {
      defaultToNull: false,
    }).select('key, note').order('key');
    expect(rows.data).toEqual([{ key: 'a', note: 'set' }, { key: 'b', note: 'default note' }]);
    const nulls = await s.alice.from('settings').insert([{ key: 'c', value: 1, note: 'set' }, { key: 'd', value: 2 }])
      .select('key, note').order('key');
    expect(nulls.data).toEqual([{ key: 'c', note: 'set' }, { key: 'd', note: null }]);
  });
});
