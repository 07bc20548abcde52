// `npm run bench -- --scale`: the cache at 10M entries (BENCH_SCALE_ROWS) against 10k.
//
// 1. 10k synthetic entries (insert … select generate_series) spread over 1,000 companies, plus
//    one real entry made by an ai-suggest miss; lookup latency (public.cache_lookup on random
//    synthetic keys, one connection) and hit latency (ai-suggest, one client) at that size;
// 2. grows the table to N entries the same way (10% of them already expired), then VACUUM
//    (ANALYZE) and CHECKPOINT at both sizes, so that background maintenance of the new rows
//    does not run during the measurements;
// 3. the same two measurements at N (lookups of the same 10k keys, the target's ratio; and of any
//    of the N keys, a working set far beyond shared_buffers), the table and index sizes per
//    million entries;
// 4. the nightly cleanup (public.cleanup_expired_cache(), as the cron job runs it) deletes the
//    expired 10% while hits keep being served: hit latency before vs during;
// 5. deletes its synthetic entries and gives their disk space back (VACUUM FULL; timed, reported).
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { DB_URL, FUNCTIONS_URL, marker, SERVICE_ROLE_KEY } from '../test/helpers/stack.ts';
import { type LoadResult, percentile, runLoad } from './load.ts';

export interface ScaleBench {
  rows_small: number;
  rows_large: number;
  generate_seconds: number;
  lookup_small: { p50_ms: number; p99_ms: number };
  lookup_large: { p50_ms: number; p99_ms: number };
  lookup_large_uniform: { p50_ms: number; p99_ms: number };
  hit_small: LoadResult;
  hit_large: LoadResult;
  bytes_per_million: { table: number; indexes: number; total: number };
  cleanup: { rows: number; seconds: number; hit_before: LoadResult; hit_during: LoadResult };
  teardown_seconds: number;
}

const SMALL = 10_000;
const CHUNK = 500_000;
const COMPANIES = 1000;
const log = (line: string) => console.error(`[bench scale ${new Date().toISOString().slice(11, 19)}] ${line}`);

export async function benchScale(opts: { rows?: number } = {}): Promise<ScaleBench> {
  const rows = Math.max(SMALL * 2, opts.rows ?? 10_000_000);
  const sql = postgres(DB_URL, { max: 2, onnotice: () => {} });
  // Synthetic rows are recognizable by their model name, whatever company they land in.
  const tag = `bench-scale-${randomUUID().slice(0, 8)}`;
  const seed = randomUUID();

  /** Inserts synthetic entries number `from`..`to`: every 10th already expired. */
  const generate = async (from: number, to: number) => {
    await sql.unsafe(`set synchronous_commit = off`);
    await sql.unsafe(
      `
      insert into public.ai_cache (company_id, cache_key, cache_type, model, cached_result,
                                   prompt_tokens, completion_tokens, cost_usd, expires_at)
      select md5($1 || (g % ${COMPANIES})::text)::uuid,
             md5($1 || g::text) || md5(g::text || $1),
             'chat', $2,
             jsonb_build_object('content', 'synthetic answer ' || g, 'model', 'gpt-4o-mini',
                                'usage', jsonb_build_object('prompt_tokens', 20, 'completion_tokens', 40)),
             20, 40, 0.000027,
             case when g % 10 = 0 then now() - interval '1 day' else now() + interval '30 days' end
      from generate_series($3::bigint, $4::bigint) g
      -- In the unique index's order: appending to its pages instead of splitting random ones
      -- makes the load several times faster.
      order by 1, 2`,
      [seed, tag, from, to],
    );
  };

  /**
   * The table as it is in steady state: vacuumed and analyzed, its pages written out. Without
   * it, autovacuum and the checkpointer work through gigabytes of new rows during the 10M
   * measurements and time the machine, not the lookup.
   */
  const settle = async () => {
    await sql`vacuum (analyze) public.ai_cache`;
    await sql`checkpoint`;
  };

  /**
   * cache_lookup on random live synthetic keys among the first `among`, one connection, as the
   * functions call it, after `warm` untimed lookups (one pass over the keys when `warm` covers
   * them: the steady state of a hot working set, whatever the table's size).
   */
  const lookups = async (among: number, n = 2000, warm = 500) => {
    const times: number[] = [];
    const conn = await sql.reserve();
    try {
      for (let i = 0; i < warm + n; i++) {
        // Warm-up: one pass over a working set that fits in memory (each key once), else random.
        let g = i < warm && among <= warm ? 1 + i : 1 + Math.floor(Math.random() * among);
        if (g % 10 === 0) g++;
        const t0 = performance.now();
        await conn.unsafe(
          `select public.cache_lookup(p_company_id => md5($1 || ($2::bigint % ${COMPANIES})::text)::uuid,
                                      p_cache_key => md5($1 || $2::text) || md5($2::text || $1), p_cache_type => 'chat')`,
          [seed, g],
        );
        if (i >= warm) times.push(performance.now() - t0);
      }
    } finally {
      conn.release();
    }
    times.sort((a, b) => a - b);
    return { p50_ms: percentile(times, 50), p99_ms: percentile(times, 99) };
  };

  // Service-role hits: no rate limiter, so what is measured is the lookup path at this size.
  const description = `${marker('scale')} site pour un cabinet d'architectes`;
  const hitTarget = {
    url: `${FUNCTIONS_URL}/ai-suggest`,
    headers: { authorization: `Bearer ${SERVICE_ROLE_KEY}` },
    body: () => JSON.stringify({ description_projet: description }),
    ok: (status: number, _b: string, h: Record<string, unknown>) => status === 200 && h['x-cache'] === 'HIT',
  };
  const hits = (requests = 300) => runLoad(hitTarget, { concurrency: 1, requests, warmup: 100 });

  try {
    log(`${SMALL.toLocaleString('en')} entries…`);
    await generate(1, SMALL);
    await settle();
    const first = await fetch(hitTarget.url, {
      method: 'POST',
      headers: { ...hitTarget.headers, 'content-type': 'application/json' },
      body: hitTarget.body(),
    });
    await first.text();
    const lookup_small = await lookups(SMALL, 2000, SMALL);
    const hit_small = await hits();

    log(`growing to ${rows.toLocaleString('en')} entries (${CHUNK.toLocaleString('en')} per statement)…`);
    const t0 = performance.now();
    for (let from = SMALL + 1; from <= rows; from += CHUNK) {
      await generate(from, Math.min(rows, from + CHUNK - 1));
      log(`  ${Math.min(rows, from + CHUNK - 1).toLocaleString('en')}`);
    }
    const generate_seconds = (performance.now() - t0) / 1000;
    await settle();
    // The same workload (the 10k first keys) in a table 1,000 times larger: what size costs.
    const lookup_large = await lookups(SMALL, 2000, SMALL);
    // Every key equally likely: a working set of gigabytes, read from the OS cache, not shared_buffers.
    const lookup_large_uniform = await lookups(rows);
    const hit_large = await hits();

    const [size] = await sql`
      select pg_table_size('public.ai_cache')::float8 as t, pg_indexes_size('public.ai_cache')::float8 as i,
             (select count(*) from public.ai_cache)::float8 as n`;
    const millions = Number(size.n) / 1e6;
    const bytes_per_million = {
      table: size.t / millions,
      indexes: size.i / millions,
      total: (size.t + size.i) / millions,
    };

    log('cleanup of the expired 10% while hits are served…');
    const hit_before = await hits(200);
    const [{ expired }] = await sql`select count(*)::int as expired from public.ai_cache where expires_at <= now()`;
    const c0 = performance.now();
    let done = false;
    const cleanup = sql`select public.cleanup_expired_cache()`.then(() => (performance.now() - c0) / 1000).finally(
      () => (done = true),
    );
    // One client keeps asking for as long as the cleanup runs: every latency is kept.
    const latencies: number[] = [];
    let errors = 0;
    const h0 = performance.now();
    while (!done || latencies.length < 50) {
      const t = performance.now();
      const res = await fetch(hitTarget.url, {
        method: 'POST',
        headers: { ...hitTarget.headers, 'content-type': 'application/json' },
        body: hitTarget.body(),
      });
      await res.text();
      latencies.push(performance.now() - t);
      if (!hitTarget.ok(res.status, '', { 'x-cache': res.headers.get('x-cache') })) errors++;
    }
    const cleanupSeconds = await cleanup;
    latencies.sort((a, b) => a - b);
    const seconds = (performance.now() - h0) / 1000;
    const hit_during: LoadResult = {
      requests: latencies.length,
      errors,
      seconds,
      rps: latencies.length / seconds,
      p50_ms: percentile(latencies, 50),
      p99_ms: percentile(latencies, 99),
      mean_ms: latencies.reduce((a, b) => a + b, 0) / latencies.length,
    };

    log('removing the synthetic entries…');
    const d0 = performance.now();
    await sql`delete from public.ai_cache where model = ${tag}`;
    // Gives the disk back: otherwise the emptied pages (gigabytes at 10M) stay with the table.
    await sql`vacuum (full, analyze) public.ai_cache`;
    const teardown_seconds = (performance.now() - d0) / 1000;

    return {
      rows_small: SMALL,
      rows_large: rows,
      generate_seconds,
      lookup_small,
      lookup_large,
      lookup_large_uniform,
      hit_small,
      hit_large,
      bytes_per_million,
      cleanup: { rows: expired, seconds: cleanupSeconds, hit_before, hit_during },
      teardown_seconds,
    };
  } catch (e) {
    await sql`delete from public.ai_cache where model = ${tag}`.catch(() => undefined);
    throw e;
  } finally {
    await sql.end();
  }
}

const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const mb = (bytes: number) => `${f(bytes / 1024 / 1024, 0)} MB`;

export function scaleTable(s: ScaleBench): string[] {
  const n = (x: number) => x.toLocaleString('en');
  return [
    '',
    `## Scale: ${n(s.rows_large)} entries vs ${n(s.rows_small)}`,
    '',
    `| measure | at ${n(s.rows_small)} | at ${n(s.rows_large)} | ratio | target |`,
    '|---|---|---|---|---|',
    `| cache_lookup p50 ms (one connection, the same 10k keys) | ${f(s.lookup_small.p50_ms)} | ${
      f(s.lookup_large.p50_ms)
    } | ${f(s.lookup_large.p50_ms / s.lookup_small.p50_ms)}× | ≤ 1.2× |`,
    `| cache_lookup p99 ms | ${f(s.lookup_small.p99_ms)} | ${f(s.lookup_large.p99_ms)} | ${
      f(s.lookup_large.p99_ms / s.lookup_small.p99_ms)
    }× | |`,
    `| cache_lookup p50 / p99 ms, any of the ${n(s.rows_large)} keys | | ${f(s.lookup_large_uniform.p50_ms)} / ${
      f(s.lookup_large_uniform.p99_ms)
    } | | |`,
    `| ai-suggest hit p50 ms (1 client) | ${f(s.hit_small.p50_ms)} | ${f(s.hit_large.p50_ms)} | ${
      f(s.hit_large.p50_ms / s.hit_small.p50_ms)
    }× | ≤ 1.2× |`,
    `| ai-suggest hit p99 ms | ${f(s.hit_small.p99_ms)} | ${f(s.hit_large.p99_ms)} | ${
      f(s.hit_large.p99_ms / s.hit_small.p99_ms)
    }× | |`,
    '',
    `generated in ${f(s.generate_seconds, 0)} s; per million entries: table ${mb(s.bytes_per_million.table)}, indexes ${
      mb(s.bytes_per_million.indexes)
    }, total ${mb(s.bytes_per_million.total)}`,
    `cleanup of ${n(s.cleanup.rows)} expired entries at that size: ${f(s.cleanup.seconds, 1)} s; ` +
    `hits meanwhile: p50 ${f(s.cleanup.hit_before.p50_ms)} ms before → ${f(s.cleanup.hit_during.p50_ms)} ms during, ` +
    `p99 ${f(s.cleanup.hit_before.p99_ms)} → ${
      f(s.cleanup.hit_during.p99_ms)
    } ms, ${s.cleanup.hit_during.requests} hits, ${s.cleanup.hit_during.errors} errors`,
    `synthetic entries removed in ${f(s.teardown_seconds, 0)} s`,
  ];
}
