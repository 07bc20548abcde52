/*
 * Per-cache-type policies: which cache types are cached, for how long, and in which scope.
 *
 *   public.ai_cache_policies   one row per (company_id, cache_type); company_id null = the
 *                              default for every company (operators, service role only);
 *                              a company row overrides the default for that company
 *                              (its owners only)
 *   set_cache_policy           upsert one policy row (RLS decides who may)
 *   delete_cache_policy        drop one policy row, back to the default (RLS decides who may)
 *   get_cache_policies         the effective policy of every configured type for a company
 *   private.cache_policy_for   the one resolution rule: company row, else default row, else none
 *
 * A type without any row is accepted and cached with the caller's built-in defaults
 * (`source: 'none'`, ttl_seconds null): adding a cache type is never a code change.
 */

-- ---------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------
create table public.ai_cache_policies (
  id          bigint generated always as identity primary key,
  company_id  uuid,
  cache_type  text not null
              constraint ai_cache_policies_cache_type_check check (cache_type ~ '^[a-z][a-z0-9_]{0,62}$'),
  ttl_seconds integer not null
              constraint ai_cache_policies_ttl_seconds_check check (ttl_seconds between 1 and 31536000),
  scope       text not null default 'company'
              constraint ai_cache_policies_scope_check check (scope in ('company', 'global')),
  enabled     boolean not null default true,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now(),
  constraint ai_cache_policies_company_id_cache_type_key unique nulls not distinct (company_id, cache_type)
);

comment on table public.ai_cache_policies is
  'Cache policy per type: TTL, scope (company|global), enabled. company_id null = default for all companies.';

-- ---------------------------------------------------------------------------------------
-- Indexes
-- ---------------------------------------------------------------------------------------
-- The unique constraint (company_id, cache_type) serves both the resolution and the RLS filter.

-- ---------------------------------------------------------------------------------------
-- RLS
-- ---------------------------------------------------------------------------------------
alter table public.ai_cache_policies enable row level security;

-- Members read their company's overrides and the defaults (numbers only, no content).
create policy "Members can read their company's and default cache policies"
  on public.ai_cache_policies
  for select
  to authenticated
  using (company_id is null or private.is_company_member(company_id));

-- Owners override the defaults for their own company; defaults stay with the service role.
create policy "Owners can add their company's cache policies"
  on public.ai_cache_policies
  for insert
  to authenticated
  with check (company_id is not null and private.has_company_role(company_id, array['owner']));

create policy "Owners can change their company's cache policies"
  on public.ai_cache_policies
  for update
  to authenticated
  using (company_id is not null and private.has_company_role(company_id, array['owner']))
  with check (company_id is not null and private.has_company_role(company_id, array['owner']));

create policy "Owners can delete their company's cache policies"
  on public.ai_cache_policies
  for delete
  to authenticated
  using (company_id is not null and private.has_company_role(company_id, array['owner']));

-- ---------------------------------------------------------------------------------------
-- Functions
-- ---------------------------------------------------------------------------------------

/*
 * private.cache_policy_for(p_company_id uuid, p_cache_type text) -> jsonb
 * The effective policy of p_cache_type for p_company_id (null = global caller: defaults only):
 *   { cache_type, ttl_seconds, scope, enabled, source: 'company' | 'default' | 'none' }
 * 'none' (no row at all) has ttl_seconds null, scope 'company', enabled true: the caller
 * applies its own default TTL. Security invoker: callers see the rows RLS lets them see.
 */
create or replace function private.cache_policy_for(p_company_id uuid, p_cache_type text)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select coalesce(
    (select jsonb_build_object(
              'cache_type', p.cache_type,
              'ttl_seconds', p.ttl_seconds,
              'scope', p.scope,
              'enabled', p.enabled,
              'source', case when p.company_id is null then 'default' else 'company' end)
     from public.ai_cache_policies p
     where p.cache_type = p_cache_type
       and (p.company_id is null or p.company_id = p_company_id)
     order by p.company_id nulls last
     limit 1),
    jsonb_build_object('cache_type', p_cache_type, 'ttl_seconds', null, 'scope', 'company',
                       'enabled', true, 'source', 'none')
  );
$$;

/*
 * public.set_cache_policy(p_company_id uuid, p_cache_type text, p_ttl_seconds integer,
 *                         p_scope text default 'company', p_enabled boolean default true)
 *   -> public.ai_cache_policies
 * Creates or replaces the policy of p_cache_type for p_company_id (null = the default for
 * every company). Owners may set their company's rows; only the service role sets defaults.
 * Errors: 42501 when RLS refuses; 23514 for a malformed type, TTL or scope.
 */
create or replace function public.set_cache_policy(
  p_company_id uuid,
  p_cache_type text,
  p_ttl_seconds integer,
  p_scope text default 'company',
  p_enabled boolean default true
)
returns public.ai_cache_policies
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_row public.ai_cache_policies;
begin
  insert into public.ai_cache_policies as p (company_id, cache_type, ttl_seconds, scope, enabled)
  values (p_company_id, p_cache_type, p_ttl_seconds, coalesce(p_scope, 'company'), coalesce(p_enabled, true))
  on conflict (company_id, cache_type) do update
    set ttl_seconds = excluded.ttl_seconds,
        scope       = excluded.scope,
        enabled     = excluded.enabled,
        updated_at  = now()
  returning * into v_row;
  return v_row;
end;
$$;

/*
 * public.delete_cache_policy(p_company_id uuid, p_cache_type text) -> boolean
 * Removes the row of (p_company_id, p_cache_type) so the default applies again. Returns
 * whether a row was removed; a row the caller may not delete counts as absent (false).
 */
create or replace function public.delete_cache_policy(p_company_id uuid, p_cache_type text)
returns boolean
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  delete from public.ai_cache_policies p
  where p.company_id is not distinct from p_company_id and p.cache_type = p_cache_type;
  return found;
end;
$$;

/*
 * public.get_cache_policies(p_company_id uuid)
 *   -> table (cache_type text, ttl_seconds integer, scope text, enabled boolean, source text)
 * The effective policy of every type that has a row (default or the company's own), as
 * private.cache_policy_for resolves it. Members see their company; others see the defaults only.
 */
create or replace function public.get_cache_policies(p_company_id uuid)
returns table (cache_type text, ttl_seconds integer, scope text, enabled boolean, source text)
language sql
stable
security invoker
set search_path = ''
as $$
  select distinct on (p.cache_type)
    p.cache_type, p.ttl_seconds, p.scope, p.enabled,
    case when p.company_id is null then 'default' else 'company' end
  from public.ai_cache_policies p
  where p.company_id is null or p.company_id = p_company_id
  order by p.cache_type, p.company_id nulls last;
$$;

-- ---------------------------------------------------------------------------------------
-- Triggers
-- ---------------------------------------------------------------------------------------
-- None: set_cache_policy stamps updated_at itself.

-- ---------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------
revoke all on table public.ai_cache_policies from public, anon, authenticated;
-- Owners write only the policy itself: never ids, timestamps or another row's company (RLS).
grant select, delete on table public.ai_cache_policies to authenticated;
grant insert (company_id, cache_type, ttl_seconds, scope, enabled) on table public.ai_cache_policies to authenticated;
grant update (ttl_seconds, scope, enabled, updated_at) on table public.ai_cache_policies to authenticated;
grant all on table public.ai_cache_policies to service_role;

revoke all on function private.cache_policy_for(uuid, text) from public, anon, authenticated, service_role;
revoke all on function public.set_cache_policy(uuid, text, integer, text, boolean) from public, anon, authenticated, service_role;
revoke all on function public.delete_cache_policy(uuid, text) from public, anon, authenticated, service_role;
revoke all on function public.get_cache_policies(uuid) from public, anon, authenticated, service_role;

grant execute on function private.cache_policy_for(uuid, text) to service_role;
grant execute on function public.set_cache_policy(uuid, text, integer, text, boolean) to authenticated, service_role;
grant execute on function public.delete_cache_policy(uuid, text) to authenticated, service_role;
grant execute on function public.get_cache_policies(uuid) to authenticated, service_role;
