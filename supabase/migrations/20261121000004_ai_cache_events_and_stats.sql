/*
 * Cache statistics that survive cleanup and never serialize hits.
 *
 * Design
 * - Every lookup outcome is one INSERT into private.ai_cache_events (append-only):
 *   'hit' | 'miss' | 'upstream_call' | 'upstream_error', with the tokens and cost involved
 *   (for a hit: the stored tokens/cost of the entry hit = what the hit saved; for an
 *   upstream_call: what the call cost). Inserting never waits on another transaction, so a
 *   hot key (every client asking the same thing) scales like distinct keys.
 * - private.rollup_cache_events() folds events, every minute (pg_cron job ai-cache-rollup)
 *   and before each cleanup, into
 *     * public.ai_cache.hit_count / last_hit_at (one UPDATE per entry per minute), and
 *     * public.ai_cache_stats_daily (day, company_id, cache_type) counters, which outlive
 *       the entries they describe.
 *   The events folded are deleted in the same statement, so a reader always sees each
 *   event exactly once: either still in the events table or already in the daily table.
 * - get_cache_stats() adds the daily aggregates and the not-yet-folded events, so its
 *   figures are exact immediately, with or without pg_cron.
 */

-- ---------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------
create table private.ai_cache_events (
  id         bigint generated always as identity primary key,
  at         timestamptz not null default now(),
  company_id uuid,
  cache_type text not null,
  cache_id   bigint,  -- no FK: the entry may be replaced or deleted before the fold
  kind       text not null
             constraint ai_cache_events_kind_check
             check (kind in ('hit', 'miss', 'upstream_call', 'upstream_error')),
  tokens     integer not null default 0,
  cost_usd   numeric(12, 6) not null default 0
);

comment on table private.ai_cache_events is
  'Append-only cache events not yet folded by private.rollup_cache_events() (normally under a minute old).';

create table public.ai_cache_stats_daily (
  id                bigint generated always as identity primary key,
  day               date not null,
  company_id        uuid,
  cache_type        text not null,
  hits              bigint not null default 0,
  misses            bigint not null default 0,
  tokens_saved      bigint not null default 0,
  cost_saved_usd    numeric(16, 6) not null default 0,
  upstream_calls    bigint not null default 0,
  upstream_errors   bigint not null default 0,
  upstream_tokens   bigint not null default 0,
  upstream_cost_usd numeric(16, 6) not null default 0,
  constraint ai_cache_stats_daily_company_id_day_cache_type_key
    unique nulls not distinct (company_id, day, cache_type)
);

comment on table public.ai_cache_stats_daily is
  'Daily cache counters per company (null = global scope) and cache type, folded from private.ai_cache_events. Days are UTC.';

-- ---------------------------------------------------------------------------------------
-- Indexes
-- ---------------------------------------------------------------------------------------
-- ai_cache_events: only the primary key (the fold reads it in id order; an extra index
-- would slow down the insert on every hit). The table stays small: one minute of traffic.
-- ai_cache_stats_daily: the unique constraint leads with company_id (RLS, per-company stats).

-- ---------------------------------------------------------------------------------------
-- RLS
-- ---------------------------------------------------------------------------------------
alter table private.ai_cache_events enable row level security;
alter table public.ai_cache_stats_daily enable row level security;

-- Internal table: explicitly closed to the API roles even if a privilege is granted by
-- mistake. The service role bypasses RLS; definer functions run as the owner.
create policy "No direct access for API roles"
  on private.ai_cache_events
  as restrictive
  for all
  to anon, authenticated
  using (false)
  with check (false);

create policy "Owners and admins can read their company's daily cache stats"
  on public.ai_cache_stats_daily
  for select
  to authenticated
  using (company_id is not null and private.has_company_role(company_id, array['owner', 'admin']));

-- ---------------------------------------------------------------------------------------
-- Functions
-- ---------------------------------------------------------------------------------------

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
    returning e.at, e.company_id, e.cache_type, e.cache_id, e.kind, e.tokens, e.cost_usd
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
      upstream_calls, upstream_errors, upstream_tokens, upstream_cost_usd
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
      coalesce(sum(m.cost_usd) filter (where m.kind = 'upstream_call'), 0)
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
        upstream_cost_usd = d.upstream_cost_usd + excluded.upstream_cost_usd
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
           d.upstream_calls, d.upstream_errors, d.upstream_tokens, d.upstream_cost_usd
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
           coalesce(sum(e.cost_usd) filter (where e.kind = 'upstream_call'), 0)
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
           sum(c.upstream_cost_usd) as upstream_cost_usd
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
           coalesce(k.upstream_cost_usd, 0) as upstream_cost_usd
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
           coalesce(sum(t.upstream_cost_usd), 0) as upstream_cost_usd
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
                      'upstream_errors', b.upstream_errors
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
 * private.cache_stats_for_admin(p_company_id uuid) -> jsonb
 * get_cache_stats() for end users: the company's statistics when the caller (auth.uid())
 * is an owner or admin of p_company_id; otherwise raises 42501 (insufficient_privilege).
 */
create or replace function private.cache_stats_for_admin(p_company_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if p_company_id is null then
    raise exception 'get_cache_stats: p_company_id is required'
      using errcode = '42501',
            hint = 'Only the service role may read statistics across all companies.';
  end if;
  if not private.has_company_role(p_company_id, array['owner', 'admin']) then
    raise exception 'get_cache_stats: only owners and admins of company % may read its cache statistics', p_company_id
      using errcode = '42501';
  end if;
  return private.cache_stats(p_company_id, false);
end;
$$;

/*
 * public.increment_cache_hit_count(p_cache_id bigint) -> integer
 * Counts one hit for the entry: appends a 'hit' event carrying the entry's stored tokens
 * and cost (the entry row is not updated; the fold does it). Returns 1, or 0 when no
 * entry has this id. For callers that served an entry without cache_lookup (e.g. a
 * waiter that got the answer through cache_peek). Service role only.
 * synchronous_commit is turned off for the calling transaction: a statistics event may be
 * lost in a server crash, never corrupted.
 */
create or replace function public.increment_cache_hit_count(p_cache_id bigint)
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_count integer;
begin
  perform pg_catalog.set_config('synchronous_commit', 'off', true);

  insert into private.ai_cache_events (company_id, cache_type, cache_id, kind, tokens, cost_usd)
  select c.company_id, c.cache_type, c.id, 'hit', c.total_tokens, c.cost_usd
  from public.ai_cache c
  where c.id = p_cache_id;

  get diagnostics v_count = row_count;
  return v_count;
end;
$$;

/*
 * public.get_cache_stats(p_company_id uuid default null) -> jsonb
 * Cache statistics, exact at call time (folded daily counters + unfolded events):
 *   { scope: 'company'|'all', company_id, entries, expired_entries, hits, misses,
 *     total_uses, hit_rate, reuse_rate, tokens_saved, cost_saved_usd, upstream_calls,
 *     upstream_errors, upstream_tokens, upstream_cost_usd,
 *     by_type: [{ cache_type, entries, expired_entries, hits, misses, total_uses, hit_rate,
 *                 reuse_rate, tokens_saved, cost_saved_usd, upstream_calls,
 *                 upstream_errors }] (ordered by cache_type) }
 * entries = rows stored now (expired_entries of them past expires_at, awaiting cleanup);
 * hits/misses/... are all-time; total_uses = entries + hits; hit_rate = hits/(hits+misses);
 * reuse_rate = hits/entries (0 when the denominator is 0, 4 decimals).
 * Who: owners/admins of p_company_id (anyone else: error 42501); the service role for any
 * company, or for everything (all companies + global scope) with p_company_id null.
 * SECURITY INVOKER: the caller's privileges pick the path (the service role may execute
 * the unrestricted private.cache_stats, end users may not).
 */
create or replace function public.get_cache_stats(p_company_id uuid default null)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  if pg_catalog.has_function_privilege('private.cache_stats(uuid, boolean)', 'execute') then
    return private.cache_stats(p_company_id, p_company_id is null);
  end if;
  return private.cache_stats_for_admin(p_company_id);
end;
$$;

-- ---------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------
revoke all on table private.ai_cache_events from public, anon, authenticated;
grant select, insert, delete on table private.ai_cache_events to service_role;

revoke all on table public.ai_cache_stats_daily from public, anon, authenticated;
grant select on table public.ai_cache_stats_daily to authenticated;
grant all on table public.ai_cache_stats_daily to service_role;

revoke all on function private.rollup_cache_events(integer) from public, anon, authenticated, service_role;
revoke all on function private.cache_stats(uuid, boolean) from public, anon, authenticated, service_role;
revoke all on function private.cache_stats_for_admin(uuid) from public, anon, authenticated, service_role;
revoke all on function public.increment_cache_hit_count(bigint) from public, anon, authenticated, service_role;
revoke all on function public.get_cache_stats(uuid) from public, anon, authenticated, service_role;

grant execute on function private.rollup_cache_events(integer) to service_role;
grant execute on function private.cache_stats(uuid, boolean) to service_role;
grant execute on function private.cache_stats_for_admin(uuid) to authenticated;
grant execute on function public.increment_cache_hit_count(bigint) to service_role;
grant execute on function public.get_cache_stats(uuid) to authenticated, service_role;
