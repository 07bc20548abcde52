/*
 * Hot-path RPCs of the ai-gateway function (service role only), built on the cache protocol
 * of 20261121000005 (public.cache_lookup: hits, stale entries, single-flight leases):
 *
 *   gateway_cache_lookup       membership check + policy + cache_lookup in one round trip
 *   gateway_cache_lookup_many  membership check + policy + one lookup per embedding item,
 *                              in one round trip (hits and misses recorded per item)
 *   cache_store_many           public.cache_store for every item of one upstream call, in one
 *                              round trip
 *
 * The caller passes each key computed for both scopes (its company's and the global one):
 * the policy, read here, decides which one applies, so a hit stays one round trip.
 */

-- ---------------------------------------------------------------------------------------
-- Tables / Indexes / RLS
-- ---------------------------------------------------------------------------------------
-- None: these functions use public.ai_cache, public.ai_cache_policies and the private
-- event/lease tables as the service role.

-- ---------------------------------------------------------------------------------------
-- Functions
-- ---------------------------------------------------------------------------------------

/*
 * private.gateway_resolve(p_user_id uuid, p_company_id uuid, p_cache_type text) -> jsonb
 * Checks that p_user_id (when given: a signed-in caller) belongs to p_company_id (42501
 * otherwise; a user always needs a company: 22023), then returns the effective policy of
 * p_cache_type (private.cache_policy_for) with `company_id`: the scope entries live in
 * (null for global-scope types and global callers).
 */
create or replace function private.gateway_resolve(p_user_id uuid, p_company_id uuid, p_cache_type text)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_policy jsonb;
begin
  if p_cache_type is null or p_cache_type !~ '^[a-z][a-z0-9_]{0,62}$' then
    raise exception 'cache type must match ^[a-z][a-z0-9_]{0,62}$' using errcode = '22023';
  end if;
  if p_user_id is not null then
    if p_company_id is null then
      raise exception 'a signed-in caller needs a company' using errcode = '22023';
    end if;
    perform private.assert_company_member(p_user_id, p_company_id);
  end if;
  v_policy := private.cache_policy_for(p_company_id, p_cache_type);
  return v_policy || jsonb_build_object(
    'company_id', case when v_policy ->> 'scope' = 'global' then null else p_company_id end
  );
end;
$$;

/*
 * public.gateway_cache_lookup(p_user_id uuid, p_company_id uuid, p_cache_type text,
 *                             p_company_key text, p_global_key text,
 *                             p_max_age_seconds integer default null,
 *                             p_lease_owner text default null, p_lease_ms integer default 30000,
 *                             p_lookup boolean default true) -> jsonb
 * { policy: <gateway_resolve>, lookup: <public.cache_lookup result> | null }.
 * The lookup runs in the policy's scope with the matching key (p_global_key when the scope
 * is global), and only when p_lookup and the policy is enabled. Errors: 42501 for a
 * non-member, 22023 for bad arguments. Service role only.
 */
create or replace function public.gateway_cache_lookup(
  p_user_id uuid,
  p_company_id uuid,
  p_cache_type text,
  p_company_key text,
  p_global_key text,
  p_max_age_seconds integer default null,
  p_lease_owner text default null,
  p_lease_ms integer default 30000,
  p_lookup boolean default true
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_policy jsonb := private.gateway_resolve(p_user_id, p_company_id, p_cache_type);
  v_company_id uuid := (v_policy ->> 'company_id')::uuid;
begin
  if not coalesce(p_lookup, true) or not (v_policy ->> 'enabled')::boolean then
    return jsonb_build_object('policy', v_policy, 'lookup', null);
  end if;
  return jsonb_build_object(
    'policy', v_policy,
    'lookup', public.cache_lookup(
      v_company_id,
      case when v_company_id is null then p_global_key else p_company_key end,
      p_cache_type, p_max_age_seconds, p_lease_owner, p_lease_ms)
  );
end;
$$;

/*
 * public.gateway_cache_lookup_many(p_user_id uuid, p_company_id uuid, p_cache_type text,
 *                                  p_company_keys text[], p_global_keys text[],
 *                                  p_max_age_seconds integer default null,
 *                                  p_lookup boolean default true) -> jsonb
 * { policy, items: [ { status: 'hit', <entry document> } | { status: 'miss', stale } ] | null }
 * One item per key, in key order (the two arrays are the same items keyed per scope). A hit
 * is a fresh entry (younger than p_max_age_seconds when given); a miss carries the stored
 * entry that could not be served (for stale-if-error) or null. Records one 'hit' or 'miss'
 * event per item. No leases: an embedding batch is cheap to repeat. Service role only.
 */
create or replace function public.gateway_cache_lookup_many(
  p_user_id uuid,
  p_company_id uuid,
  p_cache_type text,
  p_company_keys text[],
  p_global_keys text[],
  p_max_age_seconds integer default null,
  p_lookup boolean default true
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_policy jsonb := private.gateway_resolve(p_user_id, p_company_id, p_cache_type);
  v_company_id uuid := (v_policy ->> 'company_id')::uuid;
  v_keys text[];
  v_now timestamptz := now();
  v_items jsonb;
begin
  if p_max_age_seconds < 0 then
    raise exception 'p_max_age_seconds must be >= 0' using errcode = '22023';
  end if;
  if not coalesce(p_lookup, true) or not (v_policy ->> 'enabled')::boolean then
    return jsonb_build_object('policy', v_policy, 'items', null);
  end if;
  v_keys := case when v_company_id is null then p_global_keys else p_company_keys end;
  perform pg_catalog.set_config('synchronous_commit', 'off', true);

  with wanted as (
    select k.cache_key, k.ord from unnest(v_keys) with ordinality as k(cache_key, ord)
  ),
  found as (
    select w.ord, c.*,
           c.id is not null and c.expires_at > v_now
             and (p_max_age_seconds is null
                  or v_now - c.created_at <= make_interval(secs => p_max_age_seconds)) as fresh
    from wanted w
    -- Two branches, each a probe of the (company_id, cache_key) unique index.
    left join lateral (
      select * from public.ai_cache g
      where v_company_id is null and g.company_id is null and g.cache_key = w.cache_key
      union all
      select * from public.ai_cache s
      where v_company_id is not null and s.company_id = v_company_id and s.cache_key = w.cache_key
    ) c on true
  ),
  docs as (
    select f.ord, f.fresh, f.id, f.company_id, f.total_tokens, f.cost_usd,
           case when f.id is not null then jsonb_build_object(
             'id', f.id,
             'cache_type', f.cache_type,
             'model', f.model,
             'key_version', f.key_version,
             'cached_result', f.cached_result,
             'created_at', f.created_at,
             'expires_at', f.expires_at,
             'age_seconds', greatest(0, floor(extract(epoch from v_now - f.created_at)))::bigint,
             'prompt_tokens', f.prompt_tokens,
             'completion_tokens', f.completion_tokens,
             'total_tokens', f.total_tokens,
             'cost_usd', f.cost_usd
           ) end as doc
    from found f
  ),
  events as (
    insert into private.ai_cache_events (company_id, cache_type, cache_id, kind, tokens, cost_usd)
    select v_company_id, p_cache_type, d.id,
           case when d.fresh then 'hit' else 'miss' end,
           case when d.fresh then d.total_tokens else 0 end,
           case when d.fresh then d.cost_usd else 0 end
    from docs d
  )
  select coalesce(jsonb_agg(
           case when d.fresh then d.doc || '{"status": "hit"}'::jsonb
                else jsonb_build_object('status', 'miss', 'stale', d.doc) end
           order by d.ord), '[]'::jsonb)
  into v_items
  from docs d;

  return jsonb_build_object('policy', v_policy, 'items', v_items);
end;
$$;

/*
 * public.cache_store_many(p_company_id uuid, p_cache_type text, p_model text, p_items jsonb,
 *                         p_ttl_seconds integer, p_key_version smallint default 1) -> integer
 * Stores one entry per item of p_items ([{ cache_key, request, result, prompt_tokens,
 * completion_tokens, cost_usd }]) in scope p_company_id (null = global) through
 * public.cache_store, the one store rule (upsert, 'upstream_call' event with the item's tokens
 * and cost), in one round trip and one transaction. Returns the number of entries written.
 * Errors: 22023 for an empty or non-array p_items, and whatever cache_store raises (22023 for
 * a TTL < 1 or a missing result, 23514 for a malformed key/type). Service role only.
 */
create or replace function public.cache_store_many(
  p_company_id uuid,
  p_cache_type text,
  p_model text,
  p_items jsonb,
  p_ttl_seconds integer,
  p_key_version smallint default 1
)
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_item jsonb;
  v_count integer := 0;
begin
  if p_items is null or jsonb_typeof(p_items) <> 'array' or jsonb_array_length(p_items) = 0 then
    raise exception 'cache_store_many: p_items must be a non-empty array' using errcode = '22023';
  end if;
  for v_item in select i.value from jsonb_array_elements(p_items) i loop
    perform public.cache_store(
      p_company_id,
      v_item ->> 'cache_key',
      p_cache_type,
      p_model,
      v_item -> 'request',
      nullif(v_item -> 'result', 'null'::jsonb),
      (v_item ->> 'prompt_tokens')::integer,
      (v_item ->> 'completion_tokens')::integer,
      (v_item ->> 'cost_usd')::numeric,
      p_ttl_seconds,
      p_key_version,
      null
    );
    v_count := v_count + 1;
  end loop;
  return v_count;
end;
$$;

-- ---------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------
revoke all on function private.gateway_resolve(uuid, uuid, text) from public, anon, authenticated, service_role;
revoke all on function public.gateway_cache_lookup(uuid, uuid, text, text, text, integer, text, integer, boolean) from public, anon, authenticated, service_role;
revoke all on function public.gateway_cache_lookup_many(uuid, uuid, text, text[], text[], integer, boolean) from public, anon, authenticated, service_role;
revoke all on function public.cache_store_many(uuid, text, text, jsonb, integer, smallint) from public, anon, authenticated, service_role;

grant execute on function private.gateway_resolve(uuid, uuid, text) to service_role;
grant execute on function public.gateway_cache_lookup(uuid, uuid, text, text, text, integer, text, integer, boolean) to service_role;
grant execute on function public.gateway_cache_lookup_many(uuid, uuid, text, text[], text[], integer, boolean) to service_role;
grant execute on function public.cache_store_many(uuid, text, text, jsonb, integer, smallint) to service_role;
