import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, ANON_KEY, client, mintJwt, startSuite, type Suite } from './fixture.ts';

let s: Suite;
beforeAll(async () => {
  s = await startSuite('rest_fixture_auth');
}, 120_000);
afterAll(async () => {
  await s?.close();
});

describe('API key and JWT', () => {
  it('refuses a request without apikey as Kong does', async () => {
    const r = await s.fetchRest('/items', { apikey: null });
    expect(r.status).toBe(401);
    expect(await r.json()).toEqual({
      message: 'No API key found in request',
      hint: 'No `apikey` request header or url param was found.',
    });
  });

  it('refuses an apikey that is not signed with the project secret', async () => {
    const forgedKey = await mintJwt({ role: 'anon' }, 3600, 'another-secret-another-secret-another-secret');
    const r = await s.fetchRest('/items', { apikey: forgedKey });
    expect(r.status).toBe(401);
    expect((await r.json()).message).toBe('Invalid API key');
    const byQuery = await fetch(`${s.server.restUrl}/items?select=id&id=eq.1&apikey=${ANON_KEY}`);
    expect(await byQuery.json()).toEqual([{ id: 1 }]);
  });

  it('refuses an expired JWT with PGRST303 and WWW-Authenticate', async () => {
    const expired = await mintJwt({ sub: ALICE }, -120);
    const r = await client(s.server.url, ANON_KEY, expired).from('items').select('id');
    expect(r.status).toBe(401);
    expect(r.error).toEqual({ code: 'PGRST303', details: null, hint: null, message: 'JWT expired' });
    const raw = await s.fetchRest('/items', { headers: { authorization: `Bearer ${expired}` } });
    expect(raw.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="JWT expired"');
  });

  it('refuses a JWT with a bad signature or a malformed one with PGRST301', async () => {
    const forged = await mintJwt(
      { sub: ALICE, role: 'service_role' },
      3600,
      'not-the-secret-not-the-secret-not-the-secret',
    );
    const r = await client(s.server.url, ANON_KEY, forged).from('notes').select('*');
    expect(r.status).toBe(401);
    expect(r.error).toMatchObject({ code: 'PGRST301', message: 'No suitable key or wrong key type' });
    const malformed = await s.fetchRest('/items', { headers: { authorization: 'Bearer abc.def' } });
    expect(malformed.status).toBe(401);
    expect(await malformed.json()).toMatchObject({ code: 'PGRST301', message: 'Expected 3 parts in JWT; got 2' });
  });

  it('refuses a role that does not exist', async () => {
    const token = await mintJwt({ sub: ALICE, role: 'superhero' });
    const r = await client(s.server.url, ANON_KEY, token).from('items').select('id');
    expect(r.status).toBe(401);
    expect(r.error).toMatchObject({ code: '22023', message: 'role "superhero" does not exist' });
  });

  it('uses the service role key to bypass RLS', async () => {
    await s.alice.from('notes').insert({ title: 'secret' });
    expect((await s.anon.from('notes').select('id')).data).toEqual([]);
    const all = await s.service.from('notes').select('title').eq('title', 'secret');
    expect(all.data).toEqual([{ title: 'secret' }]);
  });

  it('refuses a schema that is not exposed', async () => {
    const r = await s.anon.schema('auth').from('users').select('*');
    expect(r.status).toBe(406);
    expect(r.error).toMatchObject({ code: 'PGRST106', message: 'The schema must be one of the following: public' });
  });
});

describe('injection attempts stay data', () => {
  it('treats filter values as values', async () => {
    const r = await s.anon.from('items').select('id').eq('name', "apple' OR '1'='1");
    expect(r).toMatchObject({ status: 200, data: [] });
    const inList = await s.anon.from('items').select('id').in('name', ["apple'); drop table items; --", 'banana']);
    expect(inList.data).toEqual([{ id: 2 }]);
    const like = await s.anon.from('items').select('id').ilike('name', "%'; select pg_sleep(1); --");
    expect(like.data).toEqual([]);
  });

  it('treats column names, aliases, json keys and order terms as identifiers', async () => {
    const col = await s.anon.from('items').select('id, "name; drop table items"');
    expect(col.status).toBe(400);
    expect(col.error?.code).toBe('42703');
    const alias = await s.anon.from('items').select('id, "x\\" from pg_authid --":name').eq('id', 1);
    // supabase-js strips the spaces after the escaped quote; the alias stays one identifier.
    expect(alias.data).toEqual([{ id: 1, 'x"frompg_authid--': 'apple' }]);
    const jsonKey = await s.anon.from('items').select("id, c:data->>color') from pg_authid --").eq('id', 1);
    expect(jsonKey.data).toEqual([{ id: 1, c: null }]);
    const order = await s.fetchRest('/items?select=id&order=id;delete from items');
    expect(order.status).toBe(400);
    const cast = await s.fetchRest('/items?select=id::text from pg_authid');
    expect(cast.status).toBe(400);
    expect((await cast.json()).code).toBe('PGRST100');
    expect((await s.service.from('items').select('id', { count: 'exact', head: true })).count).toBe(10);
  });

  it('keeps a hostile table or function name inside its quotes', async () => {
    const t = await s.fetchRest(`/${encodeURIComponent('items; drop table items')}`);
    expect(t.status).toBe(404);
    const f = await s.fetchRest(`/rpc/${encodeURIComponent('hello"(); drop table items; --')}`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(f.status).toBe(404);
    expect((await f.json()).code).toBe('PGRST202');
  });
});

describe('schema cache', () => {
  it('reloads on NOTIFY pgrst and lazily when a new table or function is requested', async () => {
    const admin = postgres(s.db.adminUrl, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(
        `create table public.late_table (id int primary key, v text); insert into public.late_table values (1, 'x');
        create function public.late_fn(v int) returns int language sql as 'select v * 10';`,
      );
      expect((await s.anon.from('late_table').select('*')).data).toEqual([{ id: 1, v: 'x' }]);
      expect((await s.anon.rpc('late_fn', { v: 4 })).data).toBe(40);
      await admin.unsafe(`alter table public.late_table add column w int`);
      const inserted = await s.service.from('late_table').insert({ id: 2, v: 'y', w: 3 }).select('w').single();
      expect(inserted.data).toEqual({ w: 3 });
      await admin.unsafe(
        `drop function public.late_fn(int); create function public.late_fn(v int, m int default 2) returns int language sql as 'select v * m'`,
      );
      await admin.unsafe(`notify pgrst, 'reload schema'`);
      await s.server.handler.reloadSchema();
      expect((await s.anon.rpc('late_fn', { v: 4, m: 3 })).data).toBe(12);
    } finally {
      await admin.end();
    }
  });
});

describe('database connection loss', () => {
  it('recovers when its connections are terminated (database restart, pooler recycling)', async () => {
    expect((await s.anon.rpc('add_them', { a: 1, b: 1 })).data).toBe(2);
    const admin = postgres(s.db.adminUrl, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`select pg_terminate_backend(pid) from pg_stat_activity
        where datname = current_database() and usename = 'authenticator' and pid <> pg_backend_pid()`);
    } finally {
      await admin.end();
    }
    // Requests caught on a dying connection may fail (503, as PostgREST) but must not hang,
    // and the handler must heal.
    const answers: unknown[] = [];
    for (let i = 0; i < 6; i++) {
      const hang = new Promise<{ data: string }>((resolve) => setTimeout(() => resolve({ data: 'hung' }), 4000));
      answers.push((await Promise.race([s.anon.rpc('add_them', { a: i, b: 1 }).retry(false), hang])).data);
    }
    expect(answers).not.toContain('hung');
    expect(answers.slice(-3)).toEqual([4, 5, 6]);
  });
});
