// Several requests' transactions share each connection (db.ts "lanes"). These requests run
// concurrently on two lanes and check that nothing leaks between neighbours: role and claims,
// aborted transactions, first-time statements that need an extra describe round trip.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, BOB, startSuite, type Suite } from './fixture.ts';

let s: Suite;
beforeAll(async () => {
  s = await startSuite('rest_fixture_pipelining', { poolSize: 2 });
}, 120_000);
afterAll(async () => {
  await s?.close();
});

describe('transactions pipelined on shared connections', () => {
  it('keeps each request isolated under concurrency', async () => {
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < 60; i++) {
      jobs.push((async () => {
        const who = await (i % 2 ? s.alice : s.bob).rpc('whoami');
        expect(who.data).toMatchObject({ uid: i % 2 ? ALICE : BOB, role: 'authenticated' });
      })());
      jobs.push((async () => {
        const anon = await s.anon.rpc('whoami');
        expect(anon.data).toMatchObject({ uid: null, role: 'anon' });
      })());
      jobs.push((async () => {
        const failed = await s.anon.rpc('fail_with', { msg: `boom ${i}` });
        expect(failed.error).toMatchObject({ code: 'P0001', message: `boom ${i}` });
      })());
      jobs.push((async () => {
        // A new statement shape per request: each needs a describe round trip first.
        const r = await s.anon.from('items').select(`id, v${i}:qty`).eq('id', (i % 10) + 1).single();
        expect(r.data).toMatchObject({ id: (i % 10) + 1 });
        expect(Object.keys(r.data as object)).toEqual(['id', `v${i}`]);
      })());
      jobs.push((async () => {
        const inserted = await (i % 2 ? s.alice : s.bob).from('notes').insert({ title: `note ${i}` }).select(
          'title, owner_id',
        ).single();
        expect(inserted.data).toEqual({ title: `note ${i}`, owner_id: i % 2 ? ALICE : BOB });
      })());
    }
    await Promise.all(jobs);
    const alice = await s.alice.from('notes').select('title', { count: 'exact', head: true });
    const bob = await s.bob.from('notes').select('title', { count: 'exact', head: true });
    expect([alice.count, bob.count]).toEqual([30, 30]);
  });

  it('rolls back checked writes on their own connection without disturbing lanes', async () => {
    const [bad, good] = await Promise.all([
      s.alice.from('notes').update({ priority: 7 }).like('title', 'note %').select().single(),
      s.alice.rpc('whoami'),
    ]);
    expect(bad.error?.code).toBe('PGRST116');
    expect(good.data).toMatchObject({ uid: ALICE });
    const touched = await s.alice.from('notes').select('id', { count: 'exact', head: true }).eq('priority', 7);
    expect(touched.count).toBe(0);
  });
});
