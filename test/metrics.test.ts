// The ai-metrics Edge Function, scraped over HTTP like Prometheus does, its output parsed with
// a Prometheus text-format parser library. Fixtures use a cache type of their own, so the
// per-type samples are exact while other suites write to the same database.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dropCacheType,
  holdAdminSuiteLock,
  insertEntry,
  insertEvent,
  lookup,
  parsePrometheus,
  sampleValue,
} from './helpers/admin.ts';
import { adminSql, closeAdminSql, FUNCTIONS_URL, SERVICE_ROLE_KEY } from './helpers/stack.ts';

/** The local stack's token (supabase/functions/.env); a hosted run passes its own. */
const TOKEN = process.env.AI_METRICS_TOKEN ?? 'local-metrics-token';
const METRICS_URL = `${FUNCTIONS_URL}/ai-metrics`;
const TYPE = `mt_${randomBytes(6).toString('hex')}`;

const scrape = (headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }, init: RequestInit = {}) =>
  fetch(METRICS_URL, { ...init, headers });

let liveKey = '';
let releaseLock: () => Promise<void> = async () => {};

beforeAll(async () => {
  // Expired fixtures: do not overlap with the cron suite's global cleanup (see holdAdminSuiteLock).
  releaseLock = await holdAdminSuiteLock('shared');
  const companyA = randomUUID();
  const fresh = await insertEntry({
    companyId: companyA,
    cacheType: TYPE,
    promptTokens: 60,
    completionTokens: 40,
    costUsd: 0.0025,
  });
  await insertEntry({ companyId: companyA, cacheType: TYPE, expiresInSeconds: -60 });
  const global = await insertEntry({
    companyId: null,
    cacheType: TYPE,
    promptTokens: 30,
    completionTokens: 20,
    costUsd: 0.001,
  });
  liveKey = fresh.cacheKey;
  // Folded history (the daily counters) + live traffic through the lookup RPC (pending events).
  await adminSql()`insert into public.ai_cache_stats_daily
                     (day, company_id, cache_type, hits, tokens_saved, cost_saved_usd, upstream_calls, upstream_errors, upstream_tokens, upstream_cost_usd)
                   values ((now() at time zone 'UTC')::date - 1, ${companyA}, ${TYPE}, 10, 1000, 0.02, 5, 1, 500, 0.01)`;
  await lookup(companyA, fresh.cacheKey, TYPE, 4);
  await lookup(null, global.cacheKey, TYPE, 1);
  await lookup(companyA, 'd'.repeat(64), TYPE, 2);
  await insertEvent({ companyId: companyA, cacheType: TYPE, kind: 'upstream_call', tokens: 100, costUsd: 0.0025 });
  await insertEvent({ companyId: companyA, cacheType: TYPE, kind: 'upstream_error' });
}, 180_000);

afterAll(async () => {
  await dropCacheType(TYPE);
  await closeAdminSql();
  await releaseLock();
});

describe('ai-metrics over HTTP', () => {
  it('refuses a scrape without the bearer token, or with a wrong one (401)', async () => {
    const none = await scrape({});
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await none.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    const wrong = await scrape({ authorization: 'Bearer not-the-token' });
    expect(wrong.status).toBe(401);
    await wrong.body?.cancel();
    // A Supabase JWT is not the metrics token either.
    const jwt = await scrape({ authorization: `Bearer ${SERVICE_ROLE_KEY}` });
    expect(jwt.status).toBe(401);
    await jwt.body?.cancel();
  });

  it('answers only GET and HEAD', async () => {
    const post = await scrape({ authorization: `Bearer ${TOKEN}` }, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    await post.body?.cancel();
  });

  it("serves the Prometheus text format with HELP/TYPE for every family and the fixtures' values", async () => {
    const res = await scrape();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();

    // The grammar, line by line: comments are HELP/TYPE, samples are `name{labels} value`,
    // and every sample belongs to the family whose TYPE line precedes it.
    let family = '';
    for (const line of text.trimEnd().split('\n')) {
      const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge)$/.exec(line);
      if (type) {
        family = type[1];
        continue;
      }
      if (line.startsWith('# HELP ')) continue;
      const sample =
        /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/
          .exec(line);
      expect(sample, `not a sample line: ${line}`).not.toBeNull();
      expect(sample![1]).toBe(family);
    }
    expect(text.endsWith('\n')).toBe(true);

    const families = parsePrometheus(text);
    const expected: Record<string, 'COUNTER' | 'GAUGE'> = {
      ai_cache_entries: 'GAUGE',
      ai_cache_expired_entries: 'GAUGE',
      ai_cache_hits_total: 'COUNTER',
      ai_cache_misses_total: 'COUNTER',
      ai_cache_hit_ratio: 'GAUGE',
      ai_cache_tokens_saved_total: 'COUNTER',
      ai_cache_cost_saved_usd_total: 'COUNTER',
      ai_upstream_calls_total: 'COUNTER',
      ai_upstream_errors_total: 'COUNTER',
      ai_upstream_tokens_total: 'COUNTER',
      ai_upstream_cost_usd_total: 'COUNTER',
      ai_cache_table_size_bytes: 'GAUGE',
      ai_cache_events_pending: 'GAUGE',
      ai_cache_oldest_expired_age_seconds: 'GAUGE',
      ai_cache_cron_job_active: 'GAUGE',
      ai_cache_cron_last_run_timestamp_seconds: 'GAUGE',
      ai_cache_cron_last_run_success: 'GAUGE',
      ai_cache_cron_last_success_timestamp_seconds: 'GAUGE',
      ai_metrics_scrape_duration_seconds: 'GAUGE',
    };
    for (const [name, type] of Object.entries(expected)) {
      expect(families.get(name)?.type, name).toBe(type);
      expect(families.get(name)?.help.length, `${name} has a HELP text`).toBeGreaterThan(10);
    }

    const v = (name: string) => sampleValue(families, name, { cache_type: TYPE });
    expect(v('ai_cache_entries')).toBe(3);
    expect(v('ai_cache_expired_entries')).toBe(1);
    expect(v('ai_cache_hits_total')).toBe(15); // 10 folded + 4 + 1 pending
    expect(v('ai_cache_misses_total')).toBe(2);
    expect(v('ai_cache_hit_ratio')).toBeCloseTo(15 / 17, 10);
    expect(v('ai_cache_tokens_saved_total')).toBe(1000 + 4 * 100 + 50); // stored tokens of the entries hit
    expect(v('ai_cache_cost_saved_usd_total')).toBeCloseTo(0.02 + 4 * 0.0025 + 0.001, 9); // stored costs
    expect(v('ai_upstream_calls_total')).toBe(6);
    expect(v('ai_upstream_errors_total')).toBe(2);
    expect(v('ai_upstream_tokens_total')).toBe(600);
    expect(v('ai_upstream_cost_usd_total')).toBeCloseTo(0.0125, 9);

    expect(sampleValue(families, 'ai_cache_table_size_bytes')).toBeGreaterThan(0);
    expect(sampleValue(families, 'ai_cache_oldest_expired_age_seconds')).toBeGreaterThanOrEqual(60);
    expect(sampleValue(families, 'ai_cache_cron_job_active', { job: 'ai-cache-cleanup' })).toBe(1);
    expect(sampleValue(families, 'ai_cache_cron_job_active', { job: 'ai-cache-rollup' })).toBe(1);
  });

  it('counters grow with traffic between scrapes', async () => {
    const before = parsePrometheus(await (await scrape()).text());
    await lookup(null, 'c'.repeat(64), TYPE, 1); // a miss
    const hits = sampleValue(before, 'ai_cache_hits_total', { cache_type: TYPE })!;
    const [row] = await adminSql()`select company_id from public.ai_cache where cache_key = ${liveKey}`;
    await lookup(row.company_id as string, liveKey, TYPE, 1); // a hit
    const after = parsePrometheus(await (await scrape()).text());
    expect(sampleValue(after, 'ai_cache_hits_total', { cache_type: TYPE })).toBe(hits + 1);
    expect(sampleValue(after, 'ai_cache_misses_total', { cache_type: TYPE })).toBe(
      sampleValue(before, 'ai_cache_misses_total', { cache_type: TYPE })! + 1,
    );
  });
});

describe('ai-metrics handler without a token configured', () => {
  it('answers 503 metrics_disabled', async () => {
    const saved = process.env.AI_METRICS_TOKEN;
    delete process.env.AI_METRICS_TOKEN;
    try {
      const { handler } = await import('../supabase/functions/ai-metrics/handler.ts');
      const res = await handler(
        new Request('http://localhost/ai-metrics', { headers: { authorization: 'Bearer anything' } }),
      );
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({
        error: { code: 'metrics_disabled', message: expect.stringContaining('AI_METRICS_TOKEN') },
      });
    } finally {
      if (saved !== undefined) process.env.AI_METRICS_TOKEN = saved;
    }
  });
});
