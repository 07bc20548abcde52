/*
 * Admin RPCs: what the `ai-cache` CLI and the ai-metrics Edge Function call.
 *
 *   get_cache_stats_by_company  statistics per company (and the global scope), most hits first
 *   get_top_cache_entries       most used entries, with their stored prompt, uses and age
 *   count_cache_entries         how many entries a filter matches (the progress total)
 *   delete_cache_batch          deletes ONE batch of entries matching a filter
 *   get_cache_metrics           everything the Prometheus endpoint exposes, in one round trip
 *
 * All of them are service role only, and SECURITY INVOKER (the service role bypasses RLS and
 * holds the privileges they need), so the CLI behaves the same over a direct database
 * connection (`select public.fn(...)`) and over the REST API (`supabase.rpc(...)` with the
 * service-role key). The CLI uses get_cache_stats() (migration ..04) for the headline figures.
 *
 * Deleting while traffic flows: delete_cache_batch removes at most p_batch_size rows and
 * returns; the caller loops until it returns 0, each call being its own short transaction. It
 * locks the rows it deletes with FOR UPDATE SKIP LOCKED, so it never waits on a concurrent
 * cache_store of the same key (that row is left for the next run), and hits never wait on it
 * (lookups only read). Each filter walks an index in key order, so a batch never rescans rows
 * that earlier batches already examined beyond the dead index entries they left.
 *
 * Filter (count_cache_entries and delete_cache_batch take the same one; all given conditions
 * must hold, null / false = no condition):
 *   p_older_than_seconds  created_at < now() - that many seconds (age of the answer; a refresh
 *                         by cache_store resets created_at)
 *   p_expired_only        expires_at <= now()
 *   p_company_id          entries of that company only
 *   p_global_only         entries of the global scope (company_id null) only
 *   p_cache_type          entries of that cache type only
 *   p_model               entries produced by that model only
 *   p_key_version         entries whose cache key has that version (see CACHE_KEY_VERSION)
 * Errors: 22023 on a negative age, p_company_id together with p_global_only, or (for
 * delete_cache_batch) no condition at all without p_all => true.
 */

-- ---------------------------------------------------------------------------------------
-- Indexes
-- ---------------------------------------------------------------------------------------
-- Age-based cleanup (`ai-cache clean --older-than 30d`) walks entries in (created_at, id)
-- order. Unique by construction (it ends with the primary key), declared unique like the
-- other secondary indexes of ai_cache (see migration ..03).
create unique index if not exists ai_cache_created_at_id_idx on public.ai_cache (created_at, id);

-- ---------------------------------------------------------------------------------------
-- Functions
-- ---------------------------------------------------------------------------------------

/*
 * private.cache_entries_where(p_older_than_seconds bigint, p_expired_only boolean,
 *   p_company_id uuid, p_global_only boolean, p_cache_type text, p_model text,
 *   p_key_version smallint) -> text
 * The WHERE condition of the filter above over `public.ai_cache c`, referring to the filter's
 * values as $1 .. $7 (in this argument order), for EXECUTE ... USING. 'true' when no condition
 * is given. Raises 22023 on a negative age or p_company_id with p_global_only.
 */
create or replace function private.cache_entries_where(
  p_older_than_seconds bigint,
  p_expired_only boolean,
  p_company_id uuid,
  p_global_only boolean,
  p_cache_type text,
  p_model text,
  p_key_version smallint
)
returns text
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
  v_conditions text[] := array[]::text[];
begin
  if p_older_than_seconds < 0 then
    raise exception 'p_older_than_seconds must be >= 0' using errcode = '22023';
  end if;
  if p_company_id is not null and coalesce(p_global_only, false) then
    raise exception 'p_company_id and p_global_only exclude each other' using errcode = '22023';
  end if;

  if p_older_than_seconds is not null then
    v_conditions := v_conditions || 'c.created_at < pg_catalog.now() - pg_catalog.make_interval(secs => $1)'::text;
  end if;
  if coalesce(p_expired_only, false) then
    v_conditions := v_conditions || 'c.expires_at <= pg_catalog.now()'::text;
  end if;
  if p_company_id is not null then
    v_conditions := v_conditions || 'c.company_id = $3'::text;
  end if;
  if coalesce(p_global_only, false) then
    v_conditions := v_conditions || 'c.company_id is null'::text;
  end if;
  if p_cache_type is not null then
    v_conditions := v_conditions || 'c.cache_type = $5'::text;
  end if;
  if p_model is not null then
    v_conditions := v_conditions || 'c.model = $6'::text;
  end if;
  if p_key_version is not null then
    v_conditions := v_conditions || 'c.key_version = $7'::text;
  end if;

  if pg_catalog.cardinality(v_conditions) = 0 then
    return 'true';
  end if;
  return pg_catalog.array_to_string(v_conditions, ' and ');
end;
$$;

/*
 * public.count_cache_entries(p_older_than_seconds bigint default null,
 *   p_expired_only boolean default false, p_company_id uuid default null,
 *   p_global_only boolean default false, p_cache_type text default null,
 *   p_model text default null, p_key_version smallint default null) -> bigint
 * How many entries the filter (see the top of this file) matches now; every entry when no
 * condition is given. The CLI shows it as the progress total before deleting in batches.
 * Errors: 22023 as for the filter. Service role only.
 */
create or replace function public.count_cache_entries(
  p_older_than_seconds bigint default null,
  p_expired_only boolean default false,
  p_company_id uuid default null,
  p_global_only boolean default false,
  p_cache_type text default null,
  p_model text default null,
  p_key_version smallint default null
)
returns bigint
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_count bigint;
begin
  execute 'select pg_catalog.count(*) from public.ai_cache c where '
          || private.cache_entries_where(p_older_than_seconds, p_expired_only, p_company_id, p_global_only,
                                         p_cache_type, p_model, p_key_version)
    into v_count
    using p_older_than_seconds, p_expired_only, p_company_id, p_global_only, p_cache_type, p_model, p_key_version;
  return v_count;
end;
$$;

/*
 * public.delete_cache_batch(p_older_than_seconds bigint default null,
 *   p_expired_only boolean default false, p_company_id uuid default null,
 *   p_global_only boolean default false, p_cache_type text default null,
 *   p_model text default null, p_key_version smallint default null,
 *   p_all boolean default false, p_batch_size integer default 5000) -> integer
 * Deletes at most p_batch_size (1 .. 100000) entries matching the filter (see the top of this
 * file) and returns how many it deleted: call it again until it returns 0, one transaction
 * per call. Rows locked by a concurrent writer are skipped (left for a later run).
 * With no condition at all it deletes every entry, and only when p_all is true.
 * Rows are taken in the order of the index that serves the filter: (expires_at, id) for
 * p_expired_only, (created_at, id) for an age, (company_id, cache_type, id) for a company or
 * the global scope, (model, id) for a model, the primary key otherwise.
 * Statistics (ai_cache_stats_daily, pending events) are kept: they describe traffic, not entries.
 * Errors: 22023 for a bad batch size, a bad filter, or no condition without p_all.
 * Service role only.
 */
create or replace function public.delete_cache_batch(
  p_older_than_seconds bigint default null,
  p_expired_only boolean default false,
  p_company_id uuid default null,
  p_global_only boolean default false,
  p_cache_type text default null,
  p_model text default null,
  p_key_version smallint default null,
  p_all boolean default false,
  p_batch_size integer default 5000
)
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_where text;
  v_order text;
  v_deleted integer;
begin
  if p_batch_size is null or p_batch_size < 1 or p_batch_size > 100000 then
    raise exception 'delete_cache_batch: p_batch_size must be between 1 and 100000' using errcode = '22023';
  end if;

  v_where := private.cache_entries_where(p_older_than_seconds, p_expired_only, p_company_id, p_global_only,
                                         p_cache_type, p_model, p_key_version);
  if v_where = 'true' and not coalesce(p_all, false) then
    raise exception 'delete_cache_batch: no filter given'
      using errcode = '22023',
            hint = 'Pass p_all => true to delete every entry of every company.';
  end if;

  v_order := case
    when coalesce(p_expired_only, false) then 'c.expires_at, c.id'
    when p_older_than_seconds is not null then 'c.created_at, c.id'
    when p_company_id is not null or coalesce(p_global_only, false) then 'c.company_id, c.cache_type, c.id'
    when p_model is not null then 'c.model, c.id'
    else 'c.id'
  end;

  execute 'with batch as ('
          || ' select c.id from public.ai_cache c where ' || v_where
          || ' order by ' || v_order
          || ' limit $8 for update of c skip locked)'
          || ' delete from public.ai_cache d using batch b where d.id = b.id'
    using p_older_than_seconds, p_expired_only, p_company_id, p_global_only, p_cache_type, p_model, p_key_version,
          p_batch_size;
  get diagnostics v_deleted = row_count;
  return v_deleted;
end;
$$;

/*
 * private.cache_entry_prompt(p_request jsonb) -> text
 * The prompt an entry answered, from its stored canonical request: the last user message of
 * request.messages, else request.description_projet / description / prompt / input; null
 * when prompts are not stored (request null) or none of these is present.
 */
create or replace function private.cache_entry_prompt(p_request jsonb)
returns text
language sql
immutable
security invoker
set search_path = ''
as $$
  select coalesce(
    (select m.value ->> 'content'
       from pg_catalog.jsonb_array_elements(
              case when pg_catalog.jsonb_typeof(p_request -> 'messages') = 'array'
                   then p_request -> 'messages' else '[]'::jsonb end
            ) with ordinality as m(value, n)
      where m.value ->> 'role' = 'user'
      order by m.n desc
      limit 1),
    p_request ->> 'description_projet',
    p_request ->> 'description',
    p_request ->> 'prompt',
    p_request ->> 'input'
  );
$$;

/*
 * public.get_top_cache_entries(p_limit integer default 10, p_company_id uuid default null,
 *   p_cache_type text default null, p_global_only boolean default false,
 *   p_prompt_chars integer default 500) -> jsonb
 * The p_limit (1 .. 1000) most used entries, most used first (ties: most recently hit), of
 * one company, of the global scope (p_global_only), or of every scope (neither given),
 * optionally of one cache type:
 *   [{ rank, id, company_id (null = global), cache_type, model, key_version,
 *      uses (= 1 + hits: the call that produced the answer, then every hit),
 *      hits (folded hit_count + hit events not folded yet), last_hit_at, created_at,
 *      expires_at, expired, age_seconds, prompt_tokens, completion_tokens, total_tokens,
 *      cost_usd (stored cost of the answer), saved_usd (= hits x cost_usd),
 *      prompt (first p_prompt_chars characters of the stored prompt; null when not stored) }]
 * Errors: 22023 for a bad limit or p_company_id with p_global_only. Service role only.
 * Reads every entry of the scope (no index on uses, which the minute fold keeps changing).
 */
create or replace function public.get_top_cache_entries(
  p_limit integer default 10,
  p_company_id uuid default null,
  p_cache_type text default null,
  p_global_only boolean default false,
  p_prompt_chars integer default 500
)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
set plan_cache_mode = force_custom_plan
as $$
declare
  v_now timestamptz := pg_catalog.now();
  v_result jsonb;
begin
  if p_limit is null or p_limit < 1 or p_limit > 1000 then
    raise exception 'get_top_cache_entries: p_limit must be between 1 and 1000' using errcode = '22023';
  end if;
  if p_company_id is not null and coalesce(p_global_only, false) then
    raise exception 'get_top_cache_entries: p_company_id and p_global_only exclude each other' using errcode = '22023';
  end if;

  with pending as (
    select e.cache_id, pg_catalog.count(*) as hits, pg_catalog.max(e.at) as last_at
    from private.ai_cache_events e
    where e.kind = 'hit' and e.cache_id is not null
    group by e.cache_id
  ),
  top as (
    select c.*,
           c.hit_count + coalesce(p.hits, 0) as hits,
           greatest(c.last_hit_at, p.last_at) as last_used_at
    from public.ai_cache c
    left join pending p on p.cache_id = c.id
    where (p_company_id is null or c.company_id = p_company_id)
      and (not coalesce(p_global_only, false) or c.company_id is null)
      and (p_cache_type is null or c.cache_type = p_cache_type)
    order by c.hit_count + coalesce(p.hits, 0) desc, greatest(c.last_hit_at, p.last_at) desc nulls last, c.id
    limit p_limit
  )
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'rank', t.rank,
           'id', t.id,
           'company_id', t.company_id,
           'cache_type', t.cache_type,
           'model', t.model,
           'key_version', t.key_version,
           'uses', t.hits + 1,
           'hits', t.hits,
           'last_hit_at', t.last_used_at,
           'created_at', t.created_at,
           'expires_at', t.expires_at,
           'expired', t.expires_at <= v_now,
           'age_seconds', greatest(0, floor(extract(epoch from v_now - t.created_at)))::bigint,
           'prompt_tokens', t.prompt_tokens,
           'completion_tokens', t.completion_tokens,
           'total_tokens', t.total_tokens,
           'cost_usd', t.cost_usd,
           'saved_usd', t.hits * t.cost_usd,
           'prompt', pg_catalog.left(private.cache_entry_prompt(t.request), greatest(coalesce(p_prompt_chars, 500), 0))
         ) order by t.rank), '[]'::jsonb)
  into v_result
  from (
    select x.*, pg_catalog.row_number() over (
             order by x.hits desc, x.last_used_at desc nulls last, x.id) as rank
    from top x
  ) t;

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
 *                   reuse_rate, tokens_saved, cost_saved_usd, upstream_calls, upstream_errors }] }
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
           0::bigint as upstream_calls, 0::bigint as upstream_errors
    from public.ai_cache a
    group by a.company_id
    union all
    select d.company_id, 0, 0, d.hits, d.misses, d.tokens_saved, d.cost_saved_usd, d.upstream_calls, d.upstream_errors
    from public.ai_cache_stats_daily d
    union all
    select e.company_id, 0, 0,
           pg_catalog.count(*) filter (where e.kind = 'hit'),
           pg_catalog.count(*) filter (where e.kind = 'miss'),
           coalesce(pg_catalog.sum(e.tokens) filter (where e.kind = 'hit'), 0),
           coalesce(pg_catalog.sum(e.cost_usd) filter (where e.kind = 'hit'), 0),
           pg_catalog.count(*) filter (where e.kind = 'upstream_call'),
           pg_catalog.count(*) filter (where e.kind = 'upstream_error')
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
           pg_catalog.sum(p.upstream_errors)::bigint as upstream_errors
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
                      'upstream_errors', s.upstream_errors
                    ) order by s.hits desc, s.entries desc, s.company_id nulls first)
             from (select * from scopes x order by x.hits desc, x.entries desc, x.company_id nulls first limit p_limit) s
           ), '[]'::jsonb)
         )
  into v_result;

  return v_result;
end;
$$;

/*
 * private.cache_cron_jobs() -> jsonb
 * The pg_cron jobs of this project (names starting with 'ai-cache-') and their last runs:
 *   [{ job, schedule, active, last_run_at, last_status, last_success_at }] (by job name);
 *   '[]' when pg_cron is not installed. SECURITY DEFINER: the cron schema is readable by its
 *   owner (postgres) only; this exposes nothing but these figures.
 */
create or replace function private.cache_cron_jobs()
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_result jsonb;
begin
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'job', j.jobname,
           'schedule', j.schedule,
           'active', j.active,
           'last_run_at', r.start_time,
           'last_status', r.status,
           'last_success_at', s.end_time
         ) order by j.jobname), '[]'::jsonb)
  into v_result
  from cron.job j
  left join lateral (
    select d.start_time, d.status from cron.job_run_details d
    where d.jobid = j.jobid and d.status in ('succeeded', 'failed')
    order by d.runid desc limit 1
  ) r on true
  left join lateral (
    select d.end_time from cron.job_run_details d
    where d.jobid = j.jobid and d.status = 'succeeded'
    order by d.runid desc limit 1
  ) s on true
  where j.jobname like 'ai-cache-%';
  return v_result;
exception
  when undefined_table or invalid_schema_name then
    return '[]'::jsonb;
end;
$$;

/*
 * public.get_cache_metrics() -> jsonb
 * What the ai-metrics Edge Function exposes, in one round trip, exact at call time:
 *   { by_type: [{ cache_type, entries, expired_entries, hits, misses, tokens_saved,
 *                 cost_saved_usd, upstream_calls, upstream_errors, upstream_tokens,
 *                 upstream_cost_usd }] (every type with entries or counters, by name),
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
           0::bigint as upstream_tokens, 0::numeric as upstream_cost_usd
    from public.ai_cache a
    group by a.cache_type
    union all
    select d.cache_type, 0, 0, d.hits, d.misses, d.tokens_saved, d.cost_saved_usd,
           d.upstream_calls, d.upstream_errors, d.upstream_tokens, d.upstream_cost_usd
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
           coalesce(pg_catalog.sum(e.cost_usd) filter (where e.kind = 'upstream_call'), 0)
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
           pg_catalog.sum(p.upstream_cost_usd) as upstream_cost_usd
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
revoke all on function private.cache_entries_where(bigint, boolean, uuid, boolean, text, text, smallint) from public, anon, authenticated, service_role;
revoke all on function private.cache_entry_prompt(jsonb) from public, anon, authenticated, service_role;
revoke all on function private.cache_cron_jobs() from public, anon, authenticated, service_role;
revoke all on function public.count_cache_entries(bigint, boolean, uuid, boolean, text, text, smallint) from public, anon, authenticated, service_role;
revoke all on function public.delete_cache_batch(bigint, boolean, uuid, boolean, text, text, smallint, boolean, integer) from public, anon, authenticated, service_role;
revoke all on function public.get_top_cache_entries(integer, uuid, text, boolean, integer) from public, anon, authenticated, service_role;
revoke all on function public.get_cache_stats_by_company(integer) from public, anon, authenticated, service_role;
revoke all on function public.get_cache_metrics() from public, anon, authenticated, service_role;

grant execute on function private.cache_entries_where(bigint, boolean, uuid, boolean, text, text, smallint) to service_role;
grant execute on function private.cache_entry_prompt(jsonb) to service_role;
grant execute on function private.cache_cron_jobs() to service_role;
grant execute on function public.count_cache_entries(bigint, boolean, uuid, boolean, text, text, smallint) to service_role;
grant execute on function public.delete_cache_batch(bigint, boolean, uuid, boolean, text, text, smallint, boolean, integer) to service_role;
grant execute on function public.get_top_cache_entries(integer, uuid, text, boolean, integer) to service_role;
grant execute on function public.get_cache_stats_by_company(integer) to service_role;
grant execute on function public.get_cache_metrics() to service_role;
