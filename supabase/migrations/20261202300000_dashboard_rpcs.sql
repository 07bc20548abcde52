/*
 * Dashboard RPCs: what the monitoring dashboard (dashboard/) reads under the signed-in user's
 * session, besides get_cache_stats() for the headline figures.
 *
 *   get_dashboard_companies  the caller's companies, role and name (when the app has one)
 *   get_cache_dashboard      trend, per model, most reused entries (metadata only),
 *                            conversation statistics and the cleanup job's health
 *
 * Owners and admins of a company only (42501 otherwise). The public functions are SECURITY
 * INVOKER; what must read tables admins cannot (private events, message flags, pg_cron's run
 * history) is a SECURITY DEFINER helper in `private`. They return numbers and metadata, never
 * a prompt, an answer or a message's text.
 */

-- ---------------------------------------------------------------------------------------
-- Functions
-- ---------------------------------------------------------------------------------------

/*
 * private.company_name(p_company_id uuid) -> text
 * The company's display name when the host application has a public.companies table with
 * a `name` column (read under the caller's own privileges and RLS), else null.
 */
create or replace function private.company_name(p_company_id uuid)
returns text
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_name text;
begin
  if pg_catalog.to_regclass('public.companies') is null
     or not exists (select 1 from information_schema.columns c
                    where c.table_schema = 'public' and c.table_name = 'companies' and c.column_name = 'name') then
    return null;
  end if;
  execute 'select c.name::text from public.companies c where c.id = $1' into v_name using p_company_id;
  return v_name;
exception
  when insufficient_privilege or undefined_column or undefined_table then
    return null;
end;
$$;

/*
 * public.get_dashboard_companies() -> jsonb
 * The caller's (auth.uid()) companies: [{ company_id, role, is_admin, name }], admins' first,
 * then by company_id. name is null unless the app provides one (private.company_name).
 * '[]' for a caller without memberships. SECURITY INVOKER: company_members' RLS applies.
 */
create or replace function public.get_dashboard_companies()
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'company_id', m.company_id,
           'role', m.role,
           'is_admin', m.role in ('owner', 'admin'),
           'name', private.company_name(m.company_id)
         ) order by (m.role in ('owner', 'admin')) desc, m.company_id), '[]'::jsonb)
  from public.company_members m
  where m.user_id = (select auth.uid());
$$;

/*
 * private.cache_dashboard(p_company_id uuid, p_days integer, p_top integer) -> jsonb
 * The document of public.get_cache_dashboard (shape and rules documented there), after
 * checking the caller is an owner or admin of p_company_id. SECURITY DEFINER: it reads the
 * private events, message flags and pg_cron's run history, which admins cannot.
 */
create or replace function private.cache_dashboard(
  p_company_id uuid,
  p_days integer,
  p_top integer
)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
set plan_cache_mode = force_custom_plan
as $$
declare
  v_now timestamptz := pg_catalog.now();
  v_today date := (pg_catalog.now() at time zone 'UTC')::date;
  v_daily jsonb;
  v_by_model jsonb;
  v_top jsonb;
  v_conversations jsonb;
  v_cleanup jsonb;
begin
  if p_company_id is null or not private.has_company_role(p_company_id, array['owner', 'admin']) then
    raise exception 'get_cache_dashboard: only owners and admins of company % may read its dashboard', p_company_id
      using errcode = '42501';
  end if;
  if p_days is null or p_days < 1 or p_days > 366 then
    raise exception 'get_cache_dashboard: p_days must be between 1 and 366' using errcode = '22023';
  end if;
  if p_top is null or p_top < 1 or p_top > 100 then
    raise exception 'get_cache_dashboard: p_top must be between 1 and 100' using errcode = '22023';
  end if;

  with days as (
    select d::date as day from pg_catalog.generate_series(v_today - (p_days - 1), v_today, interval '1 day') d
  ),
  counters as (
    select s.day, s.hits, s.misses, s.tokens_saved, s.cost_saved_usd, s.upstream_calls, s.upstream_cost_usd
    from public.ai_cache_stats_daily s
    where s.company_id = p_company_id and s.day > v_today - p_days
    union all
    select (e.at at time zone 'UTC')::date,
           (e.kind = 'hit')::int, (e.kind = 'miss')::int,
           case when e.kind = 'hit' then e.tokens else 0 end,
           case when e.kind = 'hit' then e.cost_usd else 0 end,
           (e.kind = 'upstream_call')::int,
           case when e.kind = 'upstream_call' then e.cost_usd else 0 end
    from private.ai_cache_events e
    where e.company_id = p_company_id
  )
  select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'day', t.day,
           'hits', t.hits,
           'misses', t.misses,
           'tokens_saved', t.tokens_saved,
           'cost_saved_usd', t.cost_saved_usd,
           'upstream_calls', t.upstream_calls,
           'upstream_cost_usd', t.upstream_cost_usd
         ) order by t.day)
  into v_daily
  from (
    select d.day,
           coalesce(pg_catalog.sum(c.hits), 0)::bigint as hits,
           coalesce(pg_catalog.sum(c.misses), 0)::bigint as misses,
           coalesce(pg_catalog.sum(c.tokens_saved), 0)::bigint as tokens_saved,
           coalesce(pg_catalog.sum(c.cost_saved_usd), 0) as cost_saved_usd,
           coalesce(pg_catalog.sum(c.upstream_calls), 0)::bigint as upstream_calls,
           coalesce(pg_catalog.sum(c.upstream_cost_usd), 0) as upstream_cost_usd
    from days d
    left join counters c on c.day = d.day
    group by d.day
  ) t;

  with pending as (
    select e.cache_id, pg_catalog.count(*) as hits, pg_catalog.max(e.at) as last_at
    from private.ai_cache_events e
    where e.kind = 'hit' and e.company_id = p_company_id and e.cache_id is not null
    group by e.cache_id
  ),
  entries as (
    select a.id, a.cache_type, a.model, a.created_at, a.expires_at, a.total_tokens, a.cost_usd,
           a.hit_count + coalesce(p.hits, 0) as hits,
           greatest(a.last_hit_at, p.last_at) as last_hit_at
    from public.ai_cache a
    left join pending p on p.cache_id = a.id
    where a.company_id = p_company_id
  )
  select
    (select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
              'model', m.model, 'entries', m.entries, 'expired_entries', m.expired_entries,
              'hits', m.hits, 'tokens_saved', m.tokens_saved, 'cost_saved_usd', m.cost_saved_usd
            ) order by m.hits desc, m.entries desc, m.model), '[]'::jsonb)
       from (select x.model,
                    pg_catalog.count(*) as entries,
                    pg_catalog.count(*) filter (where x.expires_at <= v_now) as expired_entries,
                    pg_catalog.sum(x.hits)::bigint as hits,
                    pg_catalog.sum(x.hits * x.total_tokens)::bigint as tokens_saved,
                    pg_catalog.sum(x.hits * x.cost_usd) as cost_saved_usd
             from entries x group by x.model) m),
    (select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
              'rank', t.rank, 'id', t.id, 'cache_type', t.cache_type, 'model', t.model,
              'uses', t.hits + 1, 'hits', t.hits,
              'age_seconds', greatest(0, floor(extract(epoch from v_now - t.created_at)))::bigint,
              'created_at', t.created_at, 'last_hit_at', t.last_hit_at, 'expires_at', t.expires_at,
              'expired', t.expires_at <= v_now, 'total_tokens', t.total_tokens,
              'cost_usd', t.cost_usd, 'saved_usd', t.hits * t.cost_usd
            ) order by t.rank), '[]'::jsonb)
       from (select x.*, pg_catalog.row_number() over (
                      order by x.hits desc, x.last_hit_at desc nulls last, x.id) as rank
             from entries x
             order by x.hits desc, x.last_hit_at desc nulls last, x.id
             limit p_top) t)
  into v_by_model, v_top;

  with per_context as (
    select c.context_type,
           pg_catalog.count(distinct c.id) as conversations,
           pg_catalog.count(m.id) as messages,
           pg_catalog.count(m.id) filter (where m.role = 'assistant') as assistant_messages,
           pg_catalog.count(m.id) filter (where m.role = 'assistant' and m.from_cache) as cached_answers
    from public.ai_conversations c
    left join public.ai_messages m on m.conversation_id = c.id
    where c.company_id = p_company_id
    group by c.context_type
  )
  select pg_catalog.jsonb_build_object(
           'conversations', coalesce(pg_catalog.sum(p.conversations), 0)::bigint,
           'messages', coalesce(pg_catalog.sum(p.messages), 0)::bigint,
           'by_context', coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
             'context_type', p.context_type,
             'conversations', p.conversations,
             'messages', p.messages,
             'assistant_messages', p.assistant_messages,
             'cached_answers', p.cached_answers,
             'cached_share', case when p.assistant_messages > 0
                                  then round(p.cached_answers::numeric / p.assistant_messages, 4) else 0 end
           ) order by p.context_type) filter (where p.context_type is not null), '[]'::jsonb))
  into v_conversations
  from per_context p;

  select j.value into v_cleanup
  from pg_catalog.jsonb_array_elements(private.cache_cron_jobs()) j
  where j.value ->> 'job' = 'ai-cache-cleanup';

  return pg_catalog.jsonb_build_object(
    'company_id', p_company_id,
    'generated_at', v_now,
    'daily', coalesce(v_daily, '[]'::jsonb),
    'by_model', v_by_model,
    'top_entries', v_top,
    'conversations', v_conversations,
    'cleanup', v_cleanup
  );
end;
$$;

/*
 * public.get_cache_dashboard(p_company_id uuid, p_days integer default 30,
 *   p_top integer default 10) -> jsonb
 * Everything the dashboard shows besides get_cache_stats(p_company_id), exact at call time
 * (folded counters + events not folded yet):
 *   { company_id, generated_at,
 *     daily: [{ day, hits, misses, tokens_saved, cost_saved_usd, upstream_calls,
 *               upstream_cost_usd }]  one row per UTC day of the last p_days (1 .. 366), oldest first,
 *     by_model: [{ model, entries, expired_entries, hits, tokens_saved, cost_saved_usd }]
 *               entries stored now, by model (hits counted on those entries),
 *     top_entries: [{ rank, id, cache_type, model, uses, hits, age_seconds, created_at,
 *                     last_hit_at, expires_at, expired, total_tokens, cost_usd, saved_usd }]
 *               the p_top (1 .. 100) most reused entries; metadata only,
 *     conversations: { conversations, messages, by_context: [{ context_type, conversations,
 *                      messages, assistant_messages, cached_answers, cached_share }] },
 *     cleanup: { job, schedule, active, last_run_at, last_status, last_success_at } or null
 *               (pg_cron not installed or the ai-cache-cleanup job not scheduled) }
 * cached_share = cached_answers / assistant_messages (0 when none, 4 decimals).
 * Who: owners and admins of p_company_id (42501 otherwise). Errors: 22023 for bad limits.
 * SECURITY INVOKER; the work is done by private.cache_dashboard.
 */
create or replace function public.get_cache_dashboard(
  p_company_id uuid,
  p_days integer default 30,
  p_top integer default 10
)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select private.cache_dashboard(p_company_id, p_days, p_top);
$$;

-- ---------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------
revoke all on function private.company_name(uuid) from public, anon, authenticated, service_role;
revoke all on function public.get_dashboard_companies() from public, anon, authenticated, service_role;
revoke all on function private.cache_dashboard(uuid, integer, integer) from public, anon, authenticated, service_role;
revoke all on function public.get_cache_dashboard(uuid, integer, integer) from public, anon, authenticated, service_role;

grant execute on function private.company_name(uuid) to authenticated;
grant execute on function public.get_dashboard_companies() to authenticated;
grant execute on function private.cache_dashboard(uuid, integer, integer) to authenticated;
grant execute on function public.get_cache_dashboard(uuid, integer, integer) to authenticated;
