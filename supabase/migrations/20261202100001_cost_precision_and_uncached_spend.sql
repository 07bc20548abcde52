/*
 * Accounting to the micro-cent, and spend of model calls whose answer was not cached.
 *
 * Precision. Costs were numeric(12, 6) (a millionth of a dollar): a small answer (a few
 * dozen gpt-4.1-nano tokens cost a few millionths) was rounded by up to 2%, and sums of
 * savings drifted with it. Every stored cost is now numeric(20, 12): a cost priced from
 * token counts and per-million prices with up to 6 decimals is stored exactly (a
 * micro-cent is 1e-8 USD), so savings and spend add up to the token-priced truth. Columns:
 * ai_cache.cost_usd, private.ai_cache_events.cost_usd, ai_cache_stats_daily.cost_saved_usd /
 * upstream_cost_usd (and the new uncached_cost_usd). The RPCs sum these numerics unrounded.
 *
 * Uncached spend. A model call whose answer does not go into the cache (the request said
 * `Cache-Control: no-store`, or the answer is never cached: refusal, truncated, content
 * filtered) is still spend. It is recorded by public.cache_record_call as an
 * 'upstream_call' event with uncached = true, so it counts in upstream_calls /
 * upstream_tokens / upstream_cost_usd like any other call, and is also reported on its
 * own as uncached_calls / uncached_tokens / uncached_cost_usd (get_cache_stats,
 * get_cache_stats_by_company, get_cache_metrics; ai-metrics exposes
 * ai_upstream_uncached_calls_total / _tokens_total / _cost_usd_total). A `no-cache` call
 * stores its answer, so cache_store records it as a plain upstream call (uncached = false).
 *
 * get_cache_stats() gains, at top level and per type: uncached_calls, uncached_tokens,
 * uncached_cost_usd; per type also upstream_tokens and upstream_cost_usd.
 */

-- ---------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------
alter table public.ai_cache alter column cost_usd type numeric(20, 12);
alter table private.ai_cache_events alter column cost_usd type numeric(20, 12);
alter table private.ai_cache_events add column uncached boolean not null default false;
alter table public.ai_cache_stats_daily alter column cost_saved_usd type numeric(24, 12);
alter table public.ai_cache_stats_daily alter column upstream_cost_usd type numeric(24, 12);
alter table public.ai_cache_stats_daily
  add column uncached_calls bigint not null default 0,
  add column uncached_tokens bigint not null default 0,
  add column uncached_cost_usd numeric(24, 12) not null default 0;

comment on column private.ai_cache_events.uncached is
  'upstream_call only: the answer was not cached (no-store, or not cacheable); still spend.';
comment on column public.ai_cache_stats_daily.uncached_calls is
  'Model calls whose answer was not cached (no-store, refusal, truncated): included in upstream_calls too.';

-- ---------------------------------------------------------------------------------------
-- Functions
-- ---------------------------------------------------------------------------------------

/*
 * public.cache_record_call(p_company_id uuid, p_cache_type text, p_prompt_tokens integer,
 *   p_completion_tokens integer, p_cost_usd numeric) -> void
 * Records the spend of a model call whose answer is not stored in the cache (no-store, or
 * not cacheable): an 'upstream_call' event with uncached = true. Negative or null counts
 * are stored as 0. Service role only.
 */
create or replace function public.cache_record_call(
  p_company_id uuid,
  p_cache_type text,
  p_prompt_tokens integer,
  p_completion_tokens integer,
  p_cost_usd numeric
)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  if p_cache_type is null then
    raise exception 'cache_record_call: p_cache_type is required' using errcode = '22023';
  end if;
  insert into private.ai_cache_events (company_id, cache_type, kind, tokens, cost_usd, uncached)
  values (p_company_id, p_cache_type, 'upstream_call',
          greatest(coalesce(p_prompt_tokens, 0), 0) + greatest(coalesce(p_completion_tokens, 0), 0),
          greatest(coalesce(p_cost_usd, 0), 0), true);
end;
$$;

/*
 * private.rollup_cache_events(p_max_events integer default 1000000) -> integer
 * Folds up to p_max_events of the oldest events into ai_cache.hit_count/last_hit_at and
 * ai_cache_stats_daily, deleting them in the same statement; returns how many were folded.
 * One rollup runs at a time: a concurrent call returns 0 at once (transaction-level
 * advisory lock). Called by pg_cron (job ai-cache-rollup, as postgres), by
 * cleanup_expired_cache(), and by the service role.
 */
create or replace function private.rollup_cache_events(p_max_events integer default 1000000)
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_folded integer;
begin
  if not pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtext('private.rollup_cache_events')) then
    return 0;
  end if;

  with moved as (
    delete from private.ai_cache_events e
    where e.id in (
      select x.id from private.ai_cache_events x order by x.id limit greatest(p_max_events, 0)
    )
    returning e.at, e.company_id, e.cache_type, e.cache_id, e.kind, e.tokens, e.cost_usd, e.uncached
  ),
  entry_hits as (
    update public.ai_cache c
    set hit_count   = c.hit_count + h.hits,
        last_hit_at = greatest(c.last_hit_at, h.last_at)
    from (
      select m.cache_id, count(*) as hits, max(m.at) as last_at
      from moved m
      where m.kind = 'hit' and m.cache_id is not null
      group by m.cache_id
    ) h
    where c.id = h.cache_id
  ),
  daily as (
    insert into public.ai_cache_stats_daily as d (
      day, company_id, cache_type, hits, misses, tokens_saved, cost_saved_usd,
      upstream_calls, upstream_errors, upstream_tokens, upstream_cost_usd,
      uncached_calls, uncached_tokens, uncached_cost_usd
    )
    select
      (m.at at time zone 'UTC')::date,
      m.company_id,
      m.cache_type,
      count(*) filter (where m.kind = 'hit'),
      count(*) filter (where m.kind = 'miss'),
      coalesce(sum(m.tokens) filter (where m.kind = 'hit'), 0),
      coalesce(sum(m.cost_usd) filter (where m.kind = 'hit'), 0),
      count(*) filter (where m.kind = 'upstream_call'),
      count(*) filter (where m.kind = 'upstream_error'),
      coalesce(sum(m.tokens) filter (where m.kind = 'upstream_call'), 0),
      coalesce(sum(m.cost_usd) filter (where m.kind = 'upstream_call'), 0),
      count(*) filter (where m.kind = 'upstream_call' and m.uncached),
      coalesce(sum(m.tokens) filter (where m.kind = 'upstream_call' and m.uncached), 0),
      coalesce(sum(m.cost_usd) filter (where m.kind = 'upstream_call' and m.uncached), 0)
    from moved m
    group by 1, 2, 3
    on conflict (company_id, day, cache_type) do update
    set hits              = d.hits + excluded.hits,
        misses            = d.misses + excluded.misses,
        tokens_saved      = d.tokens_saved + excluded.tokens_saved,
        cost_saved_usd    = d.cost_saved_usd + excluded.cost_saved_usd,
        upstream_calls    = d.upstream_calls + excluded.upstream_calls,
        upstream_errors   = d.upstream_errors + excluded.upstream_errors,
        upstream_tokens   = d.upstream_tokens + excluded.upstream_tokens,
        upstream_cost_usd = d.upstream_cost_usd + excluded.upstream_cost_usd,
        uncached_calls    = d.uncached_calls + excluded.uncached_calls,
        uncached_tokens   = d.uncached_tokens + excluded.uncached_tokens,
        uncached_cost_usd = d.uncached_cost_usd + excluded.uncached_cost_usd
  )
  select count(*) into v_folded from moved;

  return v_folded;
end;
$$;

/*
 * private.cache_stats(p_company_id uuid, p_all_scopes boolean) -> jsonb
 * The statistics document of get_cache_stats() (shape documented there) for one company
 * (p_all_scopes = false) or for every company plus the global scope (p_all_scopes = true).
 * No authorization check: executable by the service role only; end users reach it through
 * private.cache_stats_for_admin(). SECURITY DEFINER because it reads private events.
 * force_custom_plan: the scope filter is folded per call so the company indexes are used.
 */
create or replace function private.cache_stats(p_company_id uuid, p_all_scopes boolean)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
set plan_cache_mode = force_custom_plan
as $$
declare
  v_result jsonb;
begin
  with entries as (
    select a.cache_type,
           count(*) as entries,
           count(*) filter (where a.expires_at <= now()) as expired_entries
    from public.ai_cache a
    where p_all_scopes or a.company_id = p_company_id
    group by a.cache_type
  ),
  counters as (
    select d.cache_type, d.hits, d.misses, d.tokens_saved, d.cost_saved_usd,
           d.upstream_calls, d.upstream_errors, d.upstream_tokens, d.upstream_cost_usd,
           d.uncached_calls, d.uncached_tokens, d.uncached_cost_usd
    from public.ai_cache_stats_daily d
    where p_all_scopes or d.company_id = p_company_id
    union all
    select e.cache_type,
           count(*) filter (where e.kind = 'hit'),
           count(*) filter (where e.kind = 'miss'),
           coalesce(sum(e.tokens) filter (where e.kind = 'hit'), 0),
           coalesce(sum(e.cost_usd) filter (where e.kind = 'hit'), 0),
           count(*) filter (where e.kind = 'upstream_call'),
           count(*) filter (where e.kind = 'upstream_error'),
           coalesce(sum(e.tokens) filter (where e.kind = 'upstream_call'), 0),
           coalesce(sum(e.cost_usd) filter (where e.kind = 'upstream_call'), 0),
           count(*) filter (where e.kind = 'upstream_call' and e.uncached),
           coalesce(sum(e.tokens) filter (where e.kind = 'upstream_call' and e.uncached), 0),
           coalesce(sum(e.cost_usd) filter (where e.kind = 'upstream_call' and e.uncached), 0)
    from private.ai_cache_events e
    where p_all_scopes or e.company_id = p_company_id
    group by e.cache_type
  ),
  counters_by_type as (
    select c.cache_type,
           sum(c.hits)::bigint as hits,
           sum(c.misses)::bigint as misses,
           sum(c.tokens_saved)::bigint as tokens_saved,
           sum(c.cost_saved_usd) as cost_saved_usd,
           sum(c.upstream_calls)::bigint as upstream_calls,
           sum(c.upstream_errors)::bigint as upstream_errors,
           sum(c.upstream_tokens)::bigint as upstream_tokens,
           sum(c.upstream_cost_usd) as upstream_cost_usd,
           sum(c.uncached_calls)::bigint as uncached_calls,
           sum(c.uncached_tokens)::bigint as uncached_tokens,
           sum(c.uncached_cost_usd) as uncached_cost_usd
    from counters c
    group by c.cache_type
  ),
  by_type as (
    select coalesce(n.cache_type, k.cache_type) as cache_type,
           coalesce(n.entries, 0) as entries,
           coalesce(n.expired_entries, 0) as expired_entries,
           coalesce(k.hits, 0) as hits,
           coalesce(k.misses, 0) as misses,
           coalesce(k.tokens_saved, 0) as tokens_saved,
           coalesce(k.cost_saved_usd, 0) as cost_saved_usd,
           coalesce(k.upstream_calls, 0) as upstream_calls,
           coalesce(k.upstream_errors, 0) as upstream_errors,
           coalesce(k.upstream_tokens, 0) as upstream_tokens,
           coalesce(k.upstream_cost_usd, 0) as upstream_cost_usd,
           coalesce(k.uncached_calls, 0) as uncached_calls,
           coalesce(k.uncached_tokens, 0) as uncached_tokens,
           coalesce(k.uncached_cost_usd, 0) as uncached_cost_usd
    from entries n
    full join counters_by_type k on k.cache_type = n.cache_type
  ),
  totals as (
    select coalesce(sum(t.entries), 0)::bigint as entries,
           coalesce(sum(t.expired_entries), 0)::bigint as expired_entries,
           coalesce(sum(t.hits), 0)::bigint as hits,
           coalesce(sum(t.misses), 0)::bigint as misses,
           coalesce(sum(t.tokens_saved), 0)::bigint as tokens_saved,
           coalesce(sum(t.cost_saved_usd), 0) as cost_saved_usd,
           coalesce(sum(t.upstream_calls), 0)::bigint as upstream_calls,
           coalesce(sum(t.upstream_errors), 0)::bigint as upstream_errors,
           coalesce(sum(t.upstream_tokens), 0)::bigint as upstream_tokens,
           coalesce(sum(t.upstream_cost_usd), 0) as upstream_cost_usd,
           coalesce(sum(t.uncached_calls), 0)::bigint as uncached_calls,
           coalesce(sum(t.uncached_tokens), 0)::bigint as uncached_tokens,
           coalesce(sum(t.uncached_cost_usd), 0) as uncached_cost_usd
    from by_type t
  )
  select jsonb_build_object(
           'scope', case when p_all_scopes then 'all' else 'company' end,
           'company_id', case when p_all_scopes then null else p_company_id end,
           'entries', t.entries,
           'expired_entries', t.expired_entries,
           'hits', t.hits,
           'misses', t.misses,
           'total_uses', t.entries + t.hits,
           'hit_rate', case when t.hits + t.misses > 0
                            then round(t.hits::numeric / (t.hits + t.misses), 4) else 0 end,
           'reuse_rate', case when t.entries > 0
                              then round(t.hits::numeric / t.entries, 4) else 0 end,
           'tokens_saved', t.tokens_saved,
           'cost_saved_usd', t.cost_saved_usd,
           'upstream_calls', t.upstream_calls,
           'upstream_errors', t.upstream_errors,
           'upstream_tokens', t.upstream_tokens,
           'upstream_cost_usd', t.upstream_cost_usd,
           'uncached_calls', t.uncached_calls,
           'uncached_tokens', t.uncached_tokens,
           'uncached_cost_usd', t.uncached_cost_usd,
           'by_type', coalesce((
             select jsonb_agg(jsonb_build_object(
                      'cache_type', b.cache_type,
                      'entries', b.entries,
                      'expired_entries', b.expired_entries,
                      'hits', b.hits,
                      'misses', b.misses,
                      'total_uses', b.entries + b.hits,
                      'hit_rate', case when b.hits + b.misses > 0
                                       then round(b.hits::numeric / (b.hits + b.misses), 4) else 0 end,
                      'reuse_rate', case when b.entries > 0
                                         then round(b.hits::numeric / b.entries, 4) else 0 end,
                      'tokens_saved', b.tokens_saved,
                      'cost_saved_usd', b.cost_saved_usd,
                      'upstream_calls', b.upstream_calls,
                      'upstream_errors', b.upstream_errors,
                      'upstream_tokens', b.upstream_tokens,
                      'upstream_cost_usd', b.upstream_cost_usd,
                      'uncached_calls', b.uncached_calls,
                      'uncached_tokens', b.uncached_tokens,
                      'uncached_cost_usd', b.uncached_cost_usd
                    ) order by b.cache_type)
             from by_type b
           ), '[]'::jsonb)
         )
  into v_result
  from totals t;

  return v_result;
end;
$$;

/*
 * public.get_cache_stats_by_company(p_limit integer default 20) -> jsonb
 * Statistics per scope (each company, and the global scope as company_id null), exact at call
 * time like get_cache_stats() (folded daily counters + unfolded events), the p_limit
 * (1 .. 10000) scopes with the most hits first (ties: most entries):
 *   { scopes: <number of scopes with entries or counters>,
 *     companies: [{ company_id, entries, expired_entries, hits, misses, total_uses, hit_rate,
 *                   reuse_rate, tokens_saved, cost_saved_usd, upstream_calls, upstream_errors,
 *                   upstream_tokens, upstream_cost_usd, uncached_calls, uncached_cost_usd }] }
 * Definitions as in get_cache_stats(). Errors: 22023 for a bad limit. Service role only.
 */
create or replace function public.get_cache_stats_by_company(p_limit integer default 20)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_result jsonb;
begin
  if p_limit is null or p_limit < 1 or p_limit > 10000 then
    raise exception 'get_cache_stats_by_company: p_limit must be between 1 and 10000' using errcode = '22023';
  end if;

  with parts as (
    select a.company_id,
           pg_catalog.count(*) as entries,
           pg_catalog.count(*) filter (where a.expires_at <= pg_catalog.now()) as expired_entries,
           0::bigint as hits, 0::bigint as misses, 0::bigint as tokens_saved, 0::numeric as cost_saved_usd,
           0::bigint as upstream_calls, 0::bigint as upstream_errors,
           0::bigint as upstream_tokens, 0::numeric as upstream_cost_usd,
           0::bigint as uncached_calls, 0::numeric as uncached_cost_usd
    from public.ai_cache a
    group by a.company_id
    union all
    select d.company_id, 0, 0, d.hits, d.misses, d.tokens_saved, d.cost_saved_usd, d.upstream_calls, d.upstream_errors,
           d.upstream_tokens, d.upstream_cost_usd, d.uncached_calls, d.uncached_cost_usd
    from public.ai_cache_stats_daily d
    union all
    select e.company_id, 0, 0,
           pg_catalog.count(*) filter (where e.kind = 'hit'),
           pg_catalog.count(*) filter (where e.kind = 'miss'),
           coalesce(pg_catalog.sum(e.tokens) filter (where e.kind = 'hit'), 0),
           coalesce(pg_catalog.sum(e.cost_usd) filter (where e.kind = 'hit'), 0),
           pg_catalog.count(*) filter (where e.kind = 'upstream_call'),
           pg_catalog.count(*) filter (where e.kind = 'upstream_error'),
           coalesce(pg_catalog.sum(e.tokens) filter (where e.kind = 'upstream_call'), 0),
           coalesce(pg_catalog.sum(e.cost_usd) filter (where e.kind = 'upstream_call'), 0),
           pg_catalog.count(*) filter (where e.kind = 'upstream_call' and e.uncached),
           coalesce(pg_catalog.sum(e.cost_usd) filter (where e.kind = 'upstream_call' and e.uncached), 0)
    from private.ai_cache_events e
    group by e.company_id
  ),
  scopes as (
    select p.company_id,
           pg_catalog.sum(p.entries)::bigint as entries,
           pg_catalog.sum(p.expired_entries)::bigint as expired_entries,
           pg_catalog.sum(p.hits)::bigint as hits,
           pg_catalog.sum(p.misses)::bigint as misses,
           pg_catalog.sum(p.tokens_saved)::bigint as tokens_saved,
           pg_catalog.sum(p.cost_saved_usd) as cost_saved_usd,
           pg_catalog.sum(p.upstream_calls)::bigint as upstream_calls,
           pg_catalog.sum(p.upstream_errors)::bigint as upstream_errors,
           pg_catalog.sum(p.upstream_tokens)::bigint as upstream_tokens,
           pg_catalog.sum(p.upstream_cost_usd) as upstream_cost_usd,
           pg_catalog.sum(p.uncached_calls)::bigint as uncached_calls,
           pg_catalog.sum(p.uncached_cost_usd) as uncached_cost_usd
    from parts p
    group by p.company_id
  )
  select pg_catalog.jsonb_build_object(
           'scopes', (select pg_catalog.count(*) from scopes),
           'companies', coalesce((
             select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                      'company_id', s.company_id,
                      'entries', s.entries,
                      'expired_entries', s.expired_entries,
                      'hits', s.hits,
                      'misses', s.misses,
                      'total_uses', s.entries + s.hits,
                      'hit_rate', case when s.hits + s.misses > 0
                                       then round(s.hits::numeric / (s.hits + s.misses), 4) else 0 end,
                      'reuse_rate', case when s.entries > 0
                                         then round(s.hits::numeric / s.entries, 4) else 0 end,
                      'tokens_saved', s.tokens_saved,
                      'cost_saved_usd', s.cost_saved_usd,
                      'upstream_calls', s.upstream_calls,
                      'upstream_errors', s.upstream_errors,
                      'upstream_tokens', s.upstream_tokens,
                      'upstream_cost_usd', s.upstream_cost_usd,
                      'uncached_calls', s.uncached_calls,
                      'uncached_cost_usd', s.uncached_cost_usd
                    ) order by s.hits desc, s.entries desc, s.company_id nulls first)
             from (select * from scopes x order by x.hits desc, x.entries desc, x.company_id nulls first limit p_limit) s
           ), '[]'::jsonb)
         )
  into v_result;

  return v_result;
end;
$$;

/*
 * public.get_cache_metrics() -> jsonb
 * What the ai-metrics Edge Function exposes, in one round trip, exact at call time:
 *   { by_type: [{ cache_type, entries, expired_entries, hits, misses, tokens_saved,
 *                 cost_saved_usd, upstream_calls, upstream_errors, upstream_tokens,
 *                 upstream_cost_usd, uncached_calls, uncached_tokens, uncached_cost_usd }]
 *               (every type with entries or counters, by name),
 *     table_bytes (ai_cache with its indexes and TOAST), pending_events (not folded yet),
 *     oldest_expired_at (expires_at of the oldest expired entry still stored, or null),
 *     jobs: private.cache_cron_jobs() }
 * Counters are all-time and only grow (entries and expired_entries are gauges).
 * Cost: counts every entry (index-only) on each call; scrape every 30-60 s. Service role only.
 */
create or replace function public.get_cache_metrics()
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_result jsonb;
begin
  with parts as (
    select a.cache_type,
           pg_catalog.count(*) as entries,
           pg_catalog.count(*) filter (where a.expires_at <= pg_catalog.now()) as expired_entries,
           0::bigint as hits, 0::bigint as misses, 0::bigint as tokens_saved, 0::numeric as cost_saved_usd,
           0::bigint as upstream_calls, 0::bigint as upstream_errors,
           0::bigint as upstream_tokens, 0::numeric as upstream_cost_usd,
           0::bigint as uncached_calls, 0::bigint as uncached_tokens, 0::numeric as uncached_cost_usd
    from public.ai_cache a
    group by a.cache_type
    union all
    select d.cache_type, 0, 0, d.hits, d.misses, d.tokens_saved, d.cost_saved_usd,
           d.upstream_calls, d.upstream_errors, d.upstream_tokens, d.upstream_cost_usd,
           d.uncached_calls, d.uncached_tokens, d.uncached_cost_usd
    from public.ai_cache_stats_daily d
    union all
    select e.cache_type, 0, 0,
           pg_catalog.count(*) filter (where e.kind = 'hit'),
           pg_catalog.count(*) filter (where e.kind = 'miss'),
           coalesce(pg_catalog.sum(e.tokens) filter (where e.kind = 'hit'), 0),
           coalesce(pg_catalog.sum(e.cost_usd) filter (where e.kind = 'hit'), 0),
           pg_catalog.count(*) filter (where e.kind = 'upstream_call'),
           pg_catalog.count(*) filter (where e.kind = 'upstream_error'),
           coalesce(pg_catalog.sum(e.tokens) filter (where e.kind = 'upstream_call'), 0),
           coalesce(pg_catalog.sum(e.cost_usd) filter (where e.kind = 'upstream_call'), 0),
           pg_catalog.count(*) filter (where e.kind = 'upstream_call' and e.uncached),
           coalesce(pg_catalog.sum(e.tokens) filter (where e.kind = 'upstream_call' and e.uncached), 0),
           coalesce(pg_catalog.sum(e.cost_usd) filter (where e.kind = 'upstream_call' and e.uncached), 0)
    from private.ai_cache_events e
    group by e.cache_type
  ),
  by_type as (
    select p.cache_type,
           pg_catalog.sum(p.entries)::bigint as entries,
           pg_catalog.sum(p.expired_entries)::bigint as expired_entries,
           pg_catalog.sum(p.hits)::bigint as hits,
           pg_catalog.sum(p.misses)::bigint as misses,
           pg_catalog.sum(p.tokens_saved)::bigint as tokens_saved,
           pg_catalog.sum(p.cost_saved_usd) as cost_saved_usd,
           pg_catalog.sum(p.upstream_calls)::bigint as upstream_calls,
           pg_catalog.sum(p.upstream_errors)::bigint as upstream_errors,
           pg_catalog.sum(p.upstream_tokens)::bigint as upstream_tokens,
           pg_catalog.sum(p.upstream_cost_usd) as upstream_cost_usd,
           pg_catalog.sum(p.uncached_calls)::bigint as uncached_calls,
           pg_catalog.sum(p.uncached_tokens)::bigint as uncached_tokens,
           pg_catalog.sum(p.uncached_cost_usd) as uncached_cost_usd
    from parts p
    group by p.cache_type
  )
  select pg_catalog.jsonb_build_object(
           'by_type', coalesce((
             select pg_catalog.jsonb_agg(pg_catalog.to_jsonb(b) order by b.cache_type) from by_type b
           ), '[]'::jsonb),
           'table_bytes', pg_catalog.pg_total_relation_size('public.ai_cache'::regclass),
           'pending_events', (select pg_catalog.count(*) from private.ai_cache_events),
           'oldest_expired_at', (
             select c.expires_at from public.ai_cache c
             where c.expires_at <= pg_catalog.now()
             order by c.expires_at, c.id
             limit 1
           ),
           'jobs', private.cache_cron_jobs()
         )
  into v_result;

  return v_result;
end;
$$;

-- ---------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------
revoke all on function public.cache_record_call(uuid, text, integer, integer, numeric) from public, anon, authenticated, service_role;
grant execute on function public.cache_record_call(uuid, text, integer, integer, numeric) to service_role;
