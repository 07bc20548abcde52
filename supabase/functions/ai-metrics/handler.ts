// ai-metrics: the cache's figures in the Prometheus text format, for a scraper.
//   GET /functions/v1/ai-metrics   Authorization: Bearer $AI_METRICS_TOKEN
// A scraper has no Supabase JWT, so verify_jwt is off for this function (config.toml) and the
// bearer token from the environment protects it instead:
//   AI_METRICS_TOKEN unset  → 503 metrics_disabled (the endpoint is off until a token is set)
//   missing / wrong token   → 401 unauthorized (WWW-Authenticate: Bearer)
//   database unreachable    → 503 database_unavailable
// One RPC per scrape (get_cache_metrics), exact at call time. Scrape every 30-60 s.
import { corsHeaders, preflight } from '../_shared/cors.ts';
import { env } from '../_shared/env.ts';
import { HttpError, withErrors } from '../_shared/errors.ts';
import { callRpc } from '../_shared/rpc.ts';
import { serviceClient } from '../_shared/supabase.ts';
import { CONTENT_TYPE, type MetricFamily, type MetricType, render } from './exposition.ts';

/** One cache type's figures in get_cache_metrics().by_type. */
export interface TypeMetrics {
  cache_type: string;
  entries: number;
  expired_entries: number;
  hits: number;
  misses: number;
  tokens_saved: number;
  cost_saved_usd: number;
  upstream_calls: number;
  upstream_errors: number;
  upstream_tokens: number;
  upstream_cost_usd: number;
  /** Calls whose answer was not cached (no-store, refusal, truncated): a subset of upstream_calls. */
  uncached_calls: number;
  uncached_tokens: number;
  uncached_cost_usd: number;
}

export interface CronJobStatus {
  job: string;
  schedule: string;
  active: boolean;
  last_run_at: string | null;
  last_status: string | null;
  last_success_at: string | null;
}

/** What public.get_cache_metrics() returns. */
export interface CacheMetrics {
  by_type: TypeMetrics[];
  table_bytes: number;
  pending_events: number;
  oldest_expired_at: string | null;
  jobs: CronJobStatus[];
}

const PER_TYPE: Array<[name: string, type: MetricType, help: string, value: (t: TypeMetrics) => number]> = [
  [
    'ai_cache_entries',
    'gauge',
    'Entries stored in the cache, expired ones awaiting cleanup included.',
    (t) => t.entries,
  ],
  [
    'ai_cache_expired_entries',
    'gauge',
    'Stored entries past their expiry, awaiting the cleanup job.',
    (t) => t.expired_entries,
  ],
  ['ai_cache_hits_total', 'counter', 'Requests answered from the cache.', (t) => t.hits],
  ['ai_cache_misses_total', 'counter', 'Lookups that found no fresh entry.', (t) => t.misses],
  [
    'ai_cache_hit_ratio',
    'gauge',
    'All-time hits / (hits + misses); 0 before any lookup. Use rate() of the counters for a recent ratio.',
    (t) => (t.hits + t.misses > 0 ? t.hits / (t.hits + t.misses) : 0),
  ],
  [
    'ai_cache_tokens_saved_total',
    'counter',
    'Tokens not spent thanks to hits (each hit saves the stored tokens of its entry).',
    (t) => t.tokens_saved,
  ],
  [
    'ai_cache_cost_saved_usd_total',
    'counter',
    'US dollars not spent thanks to hits (each hit saves the stored cost of its entry, priced when it was written).',
    (t) => t.cost_saved_usd,
  ],
  [
    'ai_upstream_calls_total',
    'counter',
    'Successful model calls, cached or not (no-store and uncacheable answers included; see ai_upstream_uncached_calls_total).',
    (t) => t.upstream_calls,
  ],
  ['ai_upstream_errors_total', 'counter', 'Failed model calls.', (t) => t.upstream_errors],
  ['ai_upstream_tokens_total', 'counter', 'Tokens spent on model calls (all of them).', (t) => t.upstream_tokens],
  [
    'ai_upstream_cost_usd_total',
    'counter',
    'US dollars spent on model calls (all of them).',
    (t) => t.upstream_cost_usd,
  ],
  [
    'ai_upstream_uncached_calls_total',
    'counter',
    'Model calls whose answer was not cached (Cache-Control no-store, refusal, truncated): spend without savings. Included in ai_upstream_calls_total.',
    (t) => t.uncached_calls,
  ],
  [
    'ai_upstream_uncached_tokens_total',
    'counter',
    'Tokens spent on model calls whose answer was not cached.',
    (t) => t.uncached_tokens,
  ],
  [
    'ai_upstream_uncached_cost_usd_total',
    'counter',
    'US dollars spent on model calls whose answer was not cached.',
    (t) => t.uncached_cost_usd,
  ],
];

const seconds = (iso: string | null) => (iso ? Date.parse(iso) / 1000 : 0);

export function metricFamilies(m: CacheMetrics, now = Date.now(), scrapeSeconds?: number): MetricFamily[] {
  const types = [...m.by_type].sort((a, b) => a.cache_type.localeCompare(b.cache_type));
  const families: MetricFamily[] = PER_TYPE.map(([name, type, help, value]) => ({
    name,
    type,
    help,
    samples: types.map((t) => ({ labels: { cache_type: t.cache_type }, value: Number(value(numbers(t))) })),
  }));
  const jobs = [...m.jobs].sort((a, b) => a.job.localeCompare(b.job));
  const perJob = (name: string, help: string, value: (j: CronJobStatus) => number): MetricFamily => ({
    name,
    type: 'gauge',
    help,
    samples: jobs.map((j) => ({ labels: { job: j.job }, value: value(j) })),
  });
  families.push(
    {
      name: 'ai_cache_table_size_bytes',
      type: 'gauge',
      help: 'Size of the ai_cache table with its indexes and TOAST data.',
      samples: [{ value: Number(m.table_bytes) }],
    },
    {
      name: 'ai_cache_events_pending',
      type: 'gauge',
      help: 'Cache events not folded into the statistics yet (the rollup job runs every minute).',
      samples: [{ value: Number(m.pending_events) }],
    },
    {
      name: 'ai_cache_oldest_expired_age_seconds',
      type: 'gauge',
      help:
        'How long ago the oldest expired entry still stored expired; 0 when none. Above 86400 the nightly cleanup is not running.',
      samples: [{ value: m.oldest_expired_at ? Math.max(0, (now - Date.parse(m.oldest_expired_at)) / 1000) : 0 }],
    },
    perJob(
      'ai_cache_cron_job_active',
      'Whether the pg_cron job is scheduled and active (1) or not (0).',
      (j) => (j.active ? 1 : 0),
    ),
    perJob(
      'ai_cache_cron_last_run_timestamp_seconds',
      'Start of the last finished run of the pg_cron job (Unix time); 0 when it never ran.',
      (j) => seconds(j.last_run_at),
    ),
    perJob(
      'ai_cache_cron_last_run_success',
      'Whether the last finished run of the pg_cron job succeeded (1) or not (0, also when it never ran).',
      (j) => (j.last_status === 'succeeded' ? 1 : 0),
    ),
    perJob(
      'ai_cache_cron_last_success_timestamp_seconds',
      'End of the last successful run of the pg_cron job (Unix time); 0 when none.',
      (j) => seconds(j.last_success_at),
    ),
  );
  if (scrapeSeconds !== undefined) {
    families.push({
      name: 'ai_metrics_scrape_duration_seconds',
      type: 'gauge',
      help: 'Time spent reading these figures from the database.',
      samples: [{ value: scrapeSeconds }],
    });
  }
  return families;
}

function numbers(t: TypeMetrics): TypeMetrics {
  return {
    ...t,
    entries: Number(t.entries),
    expired_entries: Number(t.expired_entries),
    hits: Number(t.hits),
    misses: Number(t.misses),
    tokens_saved: Number(t.tokens_saved),
    cost_saved_usd: Number(t.cost_saved_usd),
    upstream_calls: Number(t.upstream_calls),
    upstream_errors: Number(t.upstream_errors),
    upstream_tokens: Number(t.upstream_tokens),
    upstream_cost_usd: Number(t.upstream_cost_usd),
    uncached_calls: Number(t.uncached_calls ?? 0),
    uncached_tokens: Number(t.uncached_tokens ?? 0),
    uncached_cost_usd: Number(t.uncached_cost_usd ?? 0),
  };
}

/** Compares digests so the time taken does not depend on where the strings differ. */
async function sameSecret(given: string, expected: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [a, b] = await Promise.all([
    crypto.subtle.digest('SHA-256', enc.encode(given)),
    crypto.subtle.digest('SHA-256', enc.encode(expected)),
  ]);
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

async function authorize(req: Request): Promise<void> {
  const expected = env('AI_METRICS_TOKEN');
  if (!expected) {
    throw new HttpError(
      503,
      'metrics_disabled',
      'The metrics endpoint is disabled: set the AI_METRICS_TOKEN secret to enable it',
    );
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.get('authorization') ?? '');
  if (!match || !(await sameSecret(match[1], expected))) {
    throw new HttpError(
      401,
      'unauthorized',
      'A valid bearer token is required (Authorization: Bearer <AI_METRICS_TOKEN>)',
      {
        'www-authenticate': 'Bearer realm="ai-metrics"',
      },
    );
  }
}

async function metrics(req: Request): Promise<Response> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    throw new HttpError(405, 'method_not_allowed', 'Use GET', { allow: 'GET, HEAD' });
  }
  await authorize(req);
  const t0 = performance.now();
  const m = await callRpc<CacheMetrics>(serviceClient(), 'get_cache_metrics', {}, 2);
  const body = render(metricFamilies(m, Date.now(), (performance.now() - t0) / 1000));
  return new Response(req.method === 'HEAD' ? null : body, {
    status: 200,
    headers: { ...corsHeaders, 'content-type': CONTENT_TYPE, 'cache-control': 'no-store' },
  });
}

/** Preflight is answered like every other function's, before any credential check. */
export const handler = (req: Request): Promise<Response> | Response =>
  req.method === 'OPTIONS' ? preflight() : withErrors(metrics)(req);
