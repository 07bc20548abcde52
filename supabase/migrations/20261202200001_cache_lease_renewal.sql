/*
 * Single-flight for answers slower than the lease.
 *
 * A leader (the caller whose cache_lookup / cache_poll returned lease 'acquired') renews its
 * lease on a timer (every third of AI_CACHE_LEASE_MS) for as long as it works on the answer,
 * streams included, and stops in its `finally`. Followers keep polling cache_poll while the
 * lease is alive; a lease that is not renewed (its leader crashed or hung) expires and the
 * next poll takes it over (private.cache_take_lease), so one caller calls the model again.
 */

-- ---------------------------------------------------------------------------------------
-- Functions
-- ---------------------------------------------------------------------------------------

/*
 * public.cache_renew_lease(p_company_id uuid, p_cache_key text, p_lease_owner text,
 *                          p_lease_ms integer) -> timestamptz
 * Extends the lease of (p_company_id, p_cache_key) to now() + p_lease_ms when p_lease_owner
 * owns it, even if it expired a moment ago and nobody took it over. Returns the new expiry,
 * or null when the lease is gone or another owner has taken it (the caller lost it: it
 * stops renewing and may still store its answer).
 * Errors: 22023 on a missing key/owner or p_lease_ms outside 1 .. 600000. Service role only.
 */
create or replace function public.cache_renew_lease(
  p_company_id uuid,
  p_cache_key text,
  p_lease_owner text,
  p_lease_ms integer
)
returns timestamptz
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_expires_at timestamptz;
begin
  if p_cache_key is null or p_lease_owner is null then
    raise exception 'cache_renew_lease: p_cache_key and p_lease_owner are required' using errcode = '22023';
  end if;
  if p_lease_ms is null or p_lease_ms < 1 or p_lease_ms > 600000 then
    raise exception 'cache_renew_lease: p_lease_ms must be between 1 and 600000' using errcode = '22023';
  end if;
  -- A lease is as durable as cache_lookup makes it: losing a renewal in a crash only means
  -- the lease expires sooner.
  perform pg_catalog.set_config('synchronous_commit', 'off', true);

  -- Two static statements so each one uses the (company_id, cache_key) unique index.
  if p_company_id is null then
    update private.ai_cache_leases l
    set expires_at = now() + make_interval(secs => p_lease_ms / 1000.0)
    where l.company_id is null and l.cache_key = p_cache_key and l.owner = p_lease_owner
    returning l.expires_at into v_expires_at;
  else
    update private.ai_cache_leases l
    set expires_at = now() + make_interval(secs => p_lease_ms / 1000.0)
    where l.company_id = p_company_id and l.cache_key = p_cache_key and l.owner = p_lease_owner
    returning l.expires_at into v_expires_at;
  end if;
  return v_expires_at;
end;
$$;

-- ---------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------
revoke all on function public.cache_renew_lease(uuid, text, text, integer) from public, anon, authenticated, service_role;
grant execute on function public.cache_renew_lease(uuid, text, text, integer) to service_role;
