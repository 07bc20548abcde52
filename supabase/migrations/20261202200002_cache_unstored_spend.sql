/*
 * A paid answer is never thrown away, and never goes unaccounted.
 *
 * When the model answered but the answer could not be stored (cache_store failed, e.g. a
 * value Postgres refuses), the function still returns the answer to its caller
 * (X-Cache: MISS, X-Cache-Warning: store-failed) and records what the call cost in a
 * separate, best-effort write: cache_record_spend. It also gives the single-flight lease
 * back, so followers take over at once instead of waiting for the lease to expire.
 */

-- ---------------------------------------------------------------------------------------
-- Functions
-- ---------------------------------------------------------------------------------------

/*
 * public.cache_record_spend(p_company_id uuid, p_cache_type text, p_prompt_tokens integer,
 *                           p_completion_tokens integer, p_cost_usd numeric,
 *                           p_cache_key text default null, p_lease_owner text default null)
 *   -> jsonb
 * Records the spend of a model call whose answer is not in the cache through
 * public.cache_record_call (an uncached 'upstream_call' event) for scope p_company_id
 * (null = global) and p_cache_type, so statistics and metrics count it. With p_cache_key and p_lease_owner, also drops that lease when
 * p_lease_owner owns it. Null tokens / cost count as 0.
 * Returns { lease_released: boolean }.
 * Errors: 22023 on a missing p_cache_type or negative tokens / cost. Service role only.
 */
create or replace function public.cache_record_spend(
  p_company_id uuid,
  p_cache_type text,
  p_prompt_tokens integer,
  p_completion_tokens integer,
  p_cost_usd numeric,
  p_cache_key text default null,
  p_lease_owner text default null
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_released integer := 0;
begin
  if p_cache_type is null then
    raise exception 'cache_record_spend: p_cache_type is required' using errcode = '22023';
  end if;
  if coalesce(p_prompt_tokens, 0) < 0 or coalesce(p_completion_tokens, 0) < 0 or coalesce(p_cost_usd, 0) < 0 then
    raise exception 'cache_record_spend: tokens and cost must be >= 0' using errcode = '22023';
  end if;

  -- One rule for uncached spend: cache_record_call (an uncached 'upstream_call' event).
  perform public.cache_record_call(p_company_id, p_cache_type, p_prompt_tokens, p_completion_tokens, p_cost_usd);

  if p_cache_key is not null and p_lease_owner is not null then
    if p_company_id is null then
      delete from private.ai_cache_leases l
      where l.company_id is null and l.cache_key = p_cache_key and l.owner = p_lease_owner;
    else
      delete from private.ai_cache_leases l
      where l.company_id = p_company_id and l.cache_key = p_cache_key and l.owner = p_lease_owner;
    end if;
    get diagnostics v_released = row_count;
  end if;

  return jsonb_build_object('lease_released', v_released > 0);
end;
$$;

-- ---------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------
revoke all on function public.cache_record_spend(uuid, text, integer, integer, numeric, text, text) from public, anon, authenticated, service_role;
grant execute on function public.cache_record_spend(uuid, text, integer, integer, numeric, text, text) to service_role;
