/*
 * The dashboard's purge action: a company admin deletes their own company's cache entries of
 * one cache type and/or one model. Members, other companies' admins and anonymous callers may
 * not (42501). Statistics are kept (they describe traffic, not entries), as for the CLI's
 * delete_cache_batch, which this reuses.
 */

-- ---------------------------------------------------------------------------------------
-- Functions
-- ---------------------------------------------------------------------------------------

/*
 * private.purge_company_cache(p_company_id uuid, p_cache_type text, p_model text) -> bigint
 * The work of public.purge_company_cache (rules documented there). SECURITY DEFINER: admins
 * have no DELETE privilege on ai_cache; the caller's role is checked first.
 */
create or replace function private.purge_company_cache(
  p_company_id uuid,
  p_cache_type text,
  p_model text
)
returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_batch integer;
  v_total bigint := 0;
begin
  if p_company_id is null or not private.has_company_role(p_company_id, array['owner', 'admin']) then
    raise exception 'purge_company_cache: only owners and admins of company % may purge its cache', p_company_id
      using errcode = '42501';
  end if;
  if nullif(p_cache_type, '') is null and nullif(p_model, '') is null then
    raise exception 'purge_company_cache: give p_cache_type or p_model' using errcode = '22023';
  end if;

  loop
    v_batch := public.delete_cache_batch(
      p_company_id => p_company_id,
      p_cache_type => nullif(p_cache_type, ''),
      p_model => nullif(p_model, ''),
      p_batch_size => 10000
    );
    v_total := v_total + v_batch;
    exit when v_batch = 0;
  end loop;
  return v_total;
end;
$$;

/*
 * public.purge_company_cache(p_company_id uuid, p_cache_type text default null,
 *   p_model text default null) -> bigint
 * Deletes every entry of p_company_id matching p_cache_type and p_model (at least one of them
 * is required) and returns how many it deleted. Entries being written concurrently are skipped
 * (delete_cache_batch's SKIP LOCKED). Never touches another company or the global scope.
 * Who: owners and admins of p_company_id (42501 otherwise). Errors: 22023 without a filter.
 * SECURITY INVOKER; the work is done by private.purge_company_cache.
 */
create or replace function public.purge_company_cache(
  p_company_id uuid,
  p_cache_type text default null,
  p_model text default null
)
returns bigint
language sql
volatile
security invoker
set search_path = ''
as $$
  select private.purge_company_cache(p_company_id, p_cache_type, p_model);
$$;

-- ---------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------
revoke all on function private.purge_company_cache(uuid, text, text) from public, anon, authenticated, service_role;
revoke all on function public.purge_company_cache(uuid, text, text) from public, anon, authenticated, service_role;
grant execute on function private.purge_company_cache(uuid, text, text) to authenticated;
grant execute on function public.purge_company_cache(uuid, text, text) to authenticated;
