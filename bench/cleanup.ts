// Cleanup of N expired entries (default 1,000,000) while cache hits keep being served.
//
//   npx tsx bench/cleanup.ts [rows] [--via cli|cron]      (also: npm run bench, section "cleanup")
//
// 1. bulk-inserts N expired entries (insert ... select generate_series, 100k rows per statement)
//    and 1,000 live ones of another company, then ANALYZE (as autovacuum would have);
// 2. a loop of concurrent clients serves hits on the live entries through cache_lookup over
//    the REST API (or the database directly when the API is not up): latency "before";
// 3. the cleanup runs while the loop goes on: latency "during":
//      --via cli   (default) what `ai-cache clean --expired` does: count, then
//                  delete_cache_batch(p_expired_only => true) until 0, one short transaction each;
//      --via cron  what the nightly job does: one call of cleanup_expired_cache();
// 4. checks the N rows are gone, removes its live entries, events and counters.
// Not part of the test suite (vitest only collects test/**/*.test.ts).
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import postgres from 'postgres';
import { batchedDelete } from '../src/cli/api.ts';
import { connect } from '../src/cli/connect.ts';

export interface CleanupBenchOptions {
  dbUrl: string;
  supabaseUrl: string;
  serviceKey: string;
  rows?: number;
  via?: 'cli' | 'cron';
  batchSize?: number;
  /** Concurrent hit clients (default 4). */
  clients?: number;
  log?: (line: string) => void;
}

export interface CleanupBenchResult {
  rows: number;
  cleanup_seconds: number;
  rows_per_second: number;
  hits_during_cleanup: number;
  hit_p50_ms_during: number;
  hit_p99_ms_during: number;
  hit_p50_ms_before: number;
  hit_p99_ms_before: number;
  hits_before: number;
  hit_errors: number;
  hits_via: 'rest' | 'db';
  cleanup_via: 'cli' | 'cron';
  batch_size: number | null;
  batches: number | null;
  insert_seconds: number;
}

const LIVE_ENTRIES = 1000;
const CHUNK = 100_000;

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0
    ? NaN
    : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
const round = (n: number, d = 3) => Math.round(n * 10 ** d) / 10 ** d;

export async function benchCleanup(opts: CleanupBenchOptions): Promise<CleanupBenchResult> {
  const rows = opts.rows ?? 1_000_000;
  const via = opts.via ?? 'cli';
  const batchSize = opts.batchSize ?? 5000;
  const clients = opts.clients ?? 4;
  const started = performance.now();
  const log = opts.log ??
    ((line: string) => console.error(`[bench cleanup +${((performance.now() - started) / 1000).toFixed(1)}s] ${line}`));
  const sql = postgres(opts.dbUrl, { max: 4, onnotice: () => {}, idle_timeout: 5 });
  const expiredCompany = randomUUID();
  const liveCompany = randomUUID();

  try {
    // 1. Fixtures ------------------------------------------------------------------------------
    const t0 = performance.now();
    for (let from = 1; from <= rows; from += CHUNK) {
      const to = Math.min(rows, from + CHUNK - 1);
      await sql`
        insert into public.ai_cache (company_id, cache_key, cache_type, model, cached_result,
                                     prompt_tokens, completion_tokens, cost_usd, created_at, expires_at)
        select ${expiredCompany}::uuid,
               md5(${expiredCompany} || g::text) || md5(g::text || ${expiredCompany}),
               case when g % 4 = 0 then 'suggestions' else 'chat' end,
               'gpt-4o-mini',
               jsonb_build_object('message', jsonb_build_object('role', 'assistant', 'content', 'expired answer ' || g)),
               120, 80, 0.000066,
               now() - interval '8 days' - make_interval(secs => g % 86400),
               now() - interval '1 hour' - make_interval(secs => g % 604800)
        from generate_series(${from}::int, ${to}::int) g`;
      log(`inserted ${to.toLocaleString('en-US')} / ${rows.toLocaleString('en-US')} expired entries`);
    }
    const liveKeys: string[] = [];
    const inserted = await sql`
      insert into public.ai_cache (company_id, cache_key, cache_type, model, cached_result, prompt_tokens,
                                   completion_tokens, cost_usd, expires_at)
      select ${liveCompany}::uuid, md5('live' || g::text) || md5(g::text || 'live'), 'chat', 'gpt-4o-mini',
             jsonb_build_object('message', jsonb_build_object('role', 'assistant', 'content', 'live answer ' || g)),
             120, 80, 0.000066, now() + interval '1 day'
      from generate_series(1, ${LIVE_ENTRIES}::int) g
      returning cache_key`;
    for (const r of inserted) liveKeys.push(r.cache_key as string);
    await sql`analyze public.ai_cache`;
    const insertSeconds = (performance.now() - t0) / 1000;
    log(`fixtures ready in ${insertSeconds.toFixed(1)} s`);

    // 2. The hit loop ---------------------------------------------------------------------------
    const restUrl = `${opts.supabaseUrl.replace(/\/$/, '')}/rest/v1/rpc/cache_lookup`;
    const headers = {
      apikey: opts.serviceKey,
      authorization: `Bearer ${opts.serviceKey}`,
      'content-type': 'application/json',
    };
    const restHit = async (key: string) => {
      const res = await fetch(restUrl, {
        method: 'POST',
        headers,
        body: JSON.stringify({ p_company_id: liveCompany, p_cache_key: key, p_cache_type: 'chat' }),
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await res.json()) as { status?: string };
      if (!res.ok || body.status !== 'hit') {
        throw new Error(`not a hit: ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
      }
    };
    const hitSql = postgres(opts.dbUrl, { max: clients, onnotice: () => {}, idle_timeout: 5 });
    const dbHit = async (key: string) => {
      const [r] = await hitSql`select public.cache_lookup(${liveCompany}, ${key}, 'chat') ->> 'status' as status`;
      if (r.status !== 'hit') throw new Error(`not a hit: ${r.status}`);
    };
    let hitsVia: 'rest' | 'db' = 'rest';
    try {
      await restHit(liveKeys[0]);
    } catch (e) {
      log(`REST API not usable (${(e as Error).message}): serving hits through the database directly`);
      hitsVia = 'db';
    }
    const hit = hitsVia === 'rest' ? restHit : dbHit;

    let phase: 'before' | 'during' | 'stop' = 'before';
    const latencies = { before: [] as number[], during: [] as number[] };
    let errors = 0;
    let n = 0;
    const worker = async () => {
      while (phase !== 'stop') {
        const current = phase;
        const key = liveKeys[n++ % liveKeys.length];
        const s = performance.now();
        try {
          await hit(key);
          if (phase === current) latencies[current].push(performance.now() - s);
        } catch {
          errors++;
        }
      }
    };
    const workers = Array.from({ length: clients }, worker);

    // Warm-up, then 3 s of "before".
    const warm = performance.now();
    while (performance.now() - warm < 1000) await new Promise((r) => setTimeout(r, 50));
    latencies.before.length = 0;
    const before = performance.now();
    while (performance.now() - before < 3000) await new Promise((r) => setTimeout(r, 50));

    // 3. The cleanup under traffic ------------------------------------------------------------------
    phase = 'during';
    log(`cleaning up via ${via} while ${clients} clients keep hitting (${hitsVia})…`);
    const c0 = performance.now();
    let batches: number | null = null;
    let deleted: number;
    if (via === 'cli') {
      const backend = connect({ mode: 'db', dbUrl: opts.dbUrl });
      try {
        let lastLog = 0;
        const r = await batchedDelete(backend, { expiredOnly: true }, {
          batchSize,
          onBatch: (done, matched) => {
            if (performance.now() - lastLog > 5000) {
              lastLog = performance.now();
              log(`  deleted ${done.toLocaleString('en-US')} / ${matched.toLocaleString('en-US')}`);
            }
          },
        });
        batches = r.batches;
        deleted = r.deleted;
      } finally {
        await backend.close();
      }
    } else {
      const [r] = await sql`select public.cleanup_expired_cache(${batchSize}) as deleted`;
      deleted = Number(r.deleted);
    }
    const cleanupSeconds = (performance.now() - c0) / 1000;
    log(`cleanup done in ${cleanupSeconds.toFixed(1)} s`);
    phase = 'stop';
    await Promise.all(workers);
    await hitSql.end({ timeout: 5 });

    // 4. Checks and cleanup ------------------------------------------------------------------------
    const [{ left }] =
      await sql`select count(*)::int as left from public.ai_cache where company_id = ${expiredCompany}`;
    if (left !== 0) throw new Error(`${left} of the bench's expired entries are still there after the cleanup`);
    if (deleted < rows) throw new Error(`the cleanup reported ${deleted} deleted, expected at least ${rows}`);

    const during = [...latencies.during].sort((a, b) => a - b);
    const beforeSorted = [...latencies.before].sort((a, b) => a - b);
    return {
      rows,
      cleanup_seconds: round(cleanupSeconds),
      rows_per_second: Math.round(rows / cleanupSeconds),
      hits_during_cleanup: during.length,
      hit_p50_ms_during: round(percentile(during, 50)),
      hit_p99_ms_during: round(percentile(during, 99)),
      hit_p50_ms_before: round(percentile(beforeSorted, 50)),
      hit_p99_ms_before: round(percentile(beforeSorted, 99)),
      hits_before: beforeSorted.length,
      hit_errors: errors,
      hits_via: hitsVia,
      cleanup_via: via,
      batch_size: batchSize,
      batches,
      insert_seconds: round(insertSeconds, 1),
    };
  } finally {
    log('removing the bench data');
    await sql`delete from public.ai_cache where company_id in (${expiredCompany}, ${liveCompany})`;
    await sql`delete from private.ai_cache_events where company_id in (${expiredCompany}, ${liveCompany})`;
    await sql`delete from public.ai_cache_stats_daily where company_id in (${expiredCompany}, ${liveCompany})`;
    await sql.end({ timeout: 5 });
  }
}

// Standalone: npx tsx bench/cleanup.ts [rows] [--via cli|cron] [--batch-size n]
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args.splice(i, 2)[1] : undefined;
  };
  const via = (flag('--via') ?? 'cli') as 'cli' | 'cron';
  const batchSize = Number(flag('--batch-size') ?? 5000);
  const rows = Number(args[0] ?? 1_000_000);
  const { stackEnv } = await import('../src/stack/config.ts');
  const env = { ...stackEnv(), ...process.env } as Record<string, string>;
  const result = await benchCleanup({
    dbUrl: env.SUPABASE_DB_URL,
    supabaseUrl: env.SUPABASE_URL,
    serviceKey: env.SUPABASE_SERVICE_ROLE_KEY,
    rows,
    via,
    batchSize,
  });
  console.log(JSON.stringify(result, null, 2));
  process.exit(0);
}
