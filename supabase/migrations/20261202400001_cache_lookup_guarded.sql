/*
 * One round trip for a guarded lookup: the rate limit, the membership check and the cache
 * lookup of a request in one RPC.
 *
 * ai-suggest used to take a token (rate_limit_take), check membership (assert_member) and
 * then look up (cache_lookup): two database round trips in a row on every anonymous hit,
 * about 40% of its latency. public.cache_lookup_guarded runs the same three rules, in the
 * same order of precedence, inside one transaction:
 *
 *   1. the token bucket (when a limit is given): a refusal answers at once, nothing else
 *      runs, and the refusal is kept (the bucket's update commits);
 *   2. membership (when a user is given): a non-member is answered 'forbidden' without a
 *      lookup; the token it took stays taken, as a probe of other companies costs its rate;
 *   3. cache_lookup (when lookup arguments are given), whose hit / miss / lease contract is
 *      unchanged.
 *
 * The rules themselves stay where they are defined (rate_limit_take, the membership rule,
 * cache_lookup): this function only sequences them. The membership rule moves into
 * private.user_is_company_member, which private.assert_company_member now calls, so that
 * answering 'forbidden' needs no exception block (a subtransaction on the hot path).
 */

-- ---------------------------------------------------------------------------------------
-- Functions
-- ---------------------------------------------------------------------------------------

/*
 * private.user_is_company_member(p_user_id uuid, p_company_id uuid) -> boolean
 * Whether p_user_id is a member of p_company_id (any role); false when either is null.
 * The one membership rule of the service-role RPCs (user id from a verified JWT).
 */
create or replace function private.user_is_company_member(p_user_id uuid, p_company_id uuid)
returns boolean
language sql
stable
security invoker
set search_path = ''
as $$
  select exists (
    select 1 from public.company_members m
    where m.company_id = p_company_id and m.user_id = p_user_id
  );
$$;

/*
 * private.assert_company_member(p_user_id uuid, p_company_id uuid) -> void
 * Raises 42501 (insufficient_privilege) unless private.user_is_company_member holds.
 * (Same contract as in 20261121100000; now defined through the one membership rule.)
 */
create or replace function private.assert_company_member(p_user_id uuid, p_company_id uuid)
returns void
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  if not private.user_is_company_member(p_user_id, p_company_id) then
    raise exception 'not a member of company %', p_company_id using errcode = '42501';
  end if;
end;
$$;

/*
 * public.cache_lookup_guarded(p_company_id uuid, p_rate_limit jsonb default null,
 *                             p_member_user_id uuid default null,
 *                             p_cache jsonb default null) -> jsonb
 * p_company_id: the request's cache scope (null = global).
 * p_rate_limit: { bucket, capacity, refill_per_second, cost? } (rate_limit_take's arguments),
 *   or null for callers that are not limited (the service role).
 * p_member_user_id: a user id from a verified JWT that must be a member of p_company_id, or
 *   null when nothing is to be checked (global scope, service role).
 * p_cache: cache_lookup's arguments as JSON ({ company_id, cache_key, cache_type,
 *   max_age_seconds?, lease_owner?, lease_ms? }), or null for no lookup (no-cache); its
 *   company_id must be p_company_id (42501 otherwise).
 * Returns { rate_limit: <rate_limit_take result> | null,
 *           status: 'rate_limited' | 'forbidden' | 'ok',
 *           lookup: <cache_lookup result> | null (always null unless status is 'ok') }.
 * Errors: 22023 on bad arguments (as rate_limit_take / cache_lookup raise them).
 * Service role only.
 */
create or replace function public.cache_lookup_guarded(
  p_company_id uuid,
  p_rate_limit jsonb default null,
  p_member_user_id uuid default null,
  p_cache jsonb default null
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_rate jsonb;
begin
  perform private.assert_chat_scope(p_company_id, p_cache);
  if p_member_user_id is not null and p_company_id is null then
    raise exception 'cache_lookup_guarded: a membership check needs p_company_id' using errcode = '22023';
  end if;

  if p_rate_limit is not null then
    v_rate := public.rate_limit_take(
      p_rate_limit ->> 'bucket',
      (p_rate_limit ->> 'capacity')::integer,
      (p_rate_limit ->> 'refill_per_second')::double precision,
      coalesce((p_rate_limit ->> 'cost')::integer, 1)
    );
    if not (v_rate ->> 'allowed')::boolean then
      return jsonb_build_object('rate_limit', v_rate, 'status', 'rate_limited', 'lookup', null);
    end if;
  end if;

  if p_member_user_id is not null and not private.user_is_company_member(p_member_user_id, p_company_id) then
    return jsonb_build_object('rate_limit', v_rate, 'status', 'forbidden', 'lookup', null);
  end if;

  return jsonb_build_object(
    'rate_limit', v_rate,
    'status', 'ok',
    'lookup', case when p_cache is null then null else public.cache_lookup(
      (p_cache ->> 'company_id')::uuid,
      p_cache ->> 'cache_key',
      p_cache ->> 'cache_type',
      (p_cache ->> 'max_age_seconds')::integer,
      p_cache ->> 'lease_owner',
      coalesce((p_cache ->> 'lease_ms')::integer, 30000)
    ) end
  );
end;
$$;

-- ---------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------
revoke all on function private.user_is_company_member(uuid, uuid) from public, anon, authenticated, service_role;
grant execute on function private.user_is_company_member(uuid, uuid) to service_role;

revoke all on function public.cache_lookup_guarded(uuid, jsonb, uuid, jsonb) from public, anon, authenticated, service_role;
grant execute on function public.cache_lookup_guarded(uuid, jsonb, uuid, jsonb) to service_role;
