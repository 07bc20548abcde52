/*
 * Hot-path RPCs the Edge Functions call with the service role key.
 *
 *   cache_lookup        one round trip: fresh hit (event recorded), or miss + stale entry +
 *                       single-flight lease
 *   cache_store         upsert the answer, record the upstream call, release the lease
 *   cache_release_lease give the lease up (and record an upstream error)
 *   cache_peek          read-only lookup for waiters while another caller holds the lease
 *
 * All are SECURITY INVOKER and executable by service_role only: the service role bypasses
 * RLS and is granted exactly the private-table privileges they need. A hit only INSERTs an
 * event: the entry row is never updated on the hot path, so a hot key does not serialize.
 *
 * Entry document (what a hit returns, and `stale` on a miss), built inline in each function
 * (a helper SQL function with its own search_path cannot be inlined and halves throughput):
 *   { id, cache_type, model, key_version, cached_result, created_at, expires_at,
 *     age_seconds (whole seconds since created_at), prompt_tokens, completion_tokens,
 *     total_tokens, cost_usd }
 *
 * Durability: cache_lookup (the hit path) switches the calling transaction to
 * synchronous_commit = off, so a hit never waits for a WAL flush. A crash may lose the last
 * few statistics events or leases; it never corrupts anything, and other sessions see the
 * commit at once as usual. The setting covers the whole calling transaction: a caller that
 * combines cache_lookup with writes it needs durable in one transaction (e.g. conversation
 * messages) can run `set local synchronous_commit = on` after it. cache_store and
 * cache_release_lease (the miss path, where the model's latency dominates) keep the
 * server's setting.
 *
 * Single-flight lease: a row in private.ai_cache_leases per (company_id, cache_key), with an
 * owner and an expiry. cache_lookup takes it when absent, expired, or already owned by the
 * same owner (re-entrant, extends it); otherwise reports 'held'. cache_store and
 * cache_release_lease drop it when owned; cleanup_expired_cache drops expired ones.
 */

-- ---------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------
create table private.ai_cache_leases (
  id          bigint generated always as identity primary key,
  company_id  uuid,
  cache_key   text not null,
  cache_type  text not null,
  owner       text not null
              constraint ai_cache_leases_owner_check check (char_length(owner) between 1 and 200),
  acquired_at timestamptz not null default now(),
  expires_at  timestamptz not null,
  constraint ai_cache_leases_company_id_cache_key_key unique nulls not distinct (company_id, cache_key)
);

comment on table private.ai_cache_leases is
  'Single-flight leases: at most one upstream call in flight per (company_id, cache_key).';

-- ---------------------------------------------------------------------------------------
-- Indexes
-- ---------------------------------------------------------------------------------------
-- The unique constraint is the lookup; the table holds only in-flight misses.

-- ---------------------------------------------------------------------------------------
-- RLS
-- ---------------------------------------------------------------------------------------
alter table private.ai_cache_leases enable row level security;

create policy "No direct access for API roles"
  on private.ai_cache_leases
  as restrictive
  for all
  to anon, authenticated
  using (false)
  with check (false);

-- ---------------------------------------------------------------------------------------
-- Functions
-- ---------------------------------------------------------------------------------------

/*
 * private.cache_take_lease(p_company_id uuid, p_cache_key text, p_cache_type text,
 *                          p_owner text, p_lease_ms integer, p_now timestamptz) -> timestamptz
 * Takes the single-flight lease of (p_company_id, p_cache_key) for p_lease_ms when it is
 * absent, expired, or already p_owner's (re-entrant: extended). Returns the new expiry, or
 * null when another owner holds a live lease. One statement, so concurrent callers race on
 * the unique constraint and exactly one wins. The one rule cache_lookup and cache_poll share.
 */
create or replace function private.cache_take_lease(
  p_company_id uuid,
  p_cache_key text,
  p_cache_type text,
  p_owner text,
  p_lease_ms integer,
  p_now timestamptz
)
returns timestamptz
language sql
volatile
security invoker
set search_path = ''
as $$
  insert into private.ai_cache_leases as l (company_id, cache_key, cache_type, owner, acquired_at, expires_at)
  values (p_company_id, p_cache_key, p_cache_type, p_owner, p_now, p_now + make_interval(secs => p_lease_ms / 1000.0))
  on conflict (company_id, cache_key) do update
    set owner = excluded.owner,
        cache_type = excluded.cache_type,
        acquired_at = excluded.acquired_at,
        expires_at = excluded.expires_at
    where l.expires_at <= excluded.acquired_at or l.owner = excluded.owner
  returning l.expires_at;
$$;

/*
 * public.cache_lookup(p_company_id uuid, p_cache_key text, p_cache_type text,
 *                     p_max_age_seconds integer default null,
 *                     p_lease_owner text default null, p_lease_ms integer default 30000) -> jsonb
 * Scope: p_company_id (null = global scope).
 * Fresh hit (entry exists, expires_at > now(), and age <= p_max_age_seconds when given):
 *   records a 'hit' event (insert only) and returns { status: 'hit', <entry document> }.
 * Otherwise records a 'miss' event (except when the lease is 'held': see below) and returns
 *   { status: 'miss', stale: <entry document + expired: boolean> | null,
 *     lease: 'acquired' | 'held' | null, lease_expires_at: timestamptz | null }
 *   stale is the stored entry that could not be served (expired, or older than the
 *   requested max age), for stale-if-error. When p_lease_owner is given, the call also tries
 *   to take the single-flight lease for p_lease_ms milliseconds (1 .. 600000): 'acquired'
 *   (the caller must call the model, then cache_store or cache_release_lease) or 'held'
 *   (another caller is on it: poll cache_poll, which counts this request once it is
 *   served or takes the lease over; no miss is recorded here, so nothing is counted twice).
 * Errors: 22023 on a missing key/type or an out-of-range p_lease_ms / p_max_age_seconds.
 * Service role only.
 */
create or replace function public.cache_lookup(
  p_company_id uuid,
  p_cache_key text,
  p_cache_type text,
  p_max_age_seconds integer default null,
  p_lease_owner text default null,
  p_lease_ms integer default 30000
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_now timestamptz := now();
  v_entry public.ai_cache;
  v_found boolean;
  v_doc jsonb;
  v_lease text;
  v_lease_owner text;
  v_lease_expires_at timestamptz;
  v_attempt integer := 1;
  v_recheck_created_at timestamptz;
  v_recheck_expires_at timestamptz;
begin
  if p_cache_key is null or p_cache_type is null then
    raise exception 'cache_lookup: p_cache_key and p_cache_type are required' using errcode = '22023';
  end if;
  if p_max_age_seconds < 0 then
    raise exception 'cache_lookup: p_max_age_seconds must be >= 0' using errcode = '22023';
  end if;

  -- Statistics events and leases may be lost in a crash: do not wait for the WAL flush.
  perform pg_catalog.set_config('synchronous_commit', 'off', true);

  <<attempt>>
  loop
  -- Two static statements so each one uses the (company_id, cache_key) unique index.
  if p_company_id is null then
    select * into v_entry from public.ai_cache c
    where c.company_id is null and c.cache_key = p_cache_key;
  else
    select * into v_entry from public.ai_cache c
    where c.company_id = p_company_id and c.cache_key = p_cache_key;
  end if;
  v_found := found;

  if v_found then
    v_doc := jsonb_build_object(
      'id', v_entry.id,
      'cache_type', v_entry.cache_type,
      'model', v_entry.model,
      'key_version', v_entry.key_version,
      'cached_result', v_entry.cached_result,
      'created_at', v_entry.created_at,
      'expires_at', v_entry.expires_at,
      'age_seconds', greatest(0, floor(extract(epoch from v_now - v_entry.created_at)))::bigint,
      'prompt_tokens', v_entry.prompt_tokens,
      'completion_tokens', v_entry.completion_tokens,
      'total_tokens', v_entry.total_tokens,
      'cost_usd', v_entry.cost_usd
    );
  end if;

  if v_found
     and v_entry.expires_at > v_now
     and (p_max_age_seconds is null
          or v_now - v_entry.created_at <= make_interval(secs => p_max_age_seconds)) then
    insert into private.ai_cache_events (company_id, cache_type, cache_id, kind, tokens, cost_usd)
    values (v_entry.company_id, v_entry.cache_type, v_entry.id, 'hit', v_entry.total_tokens, v_entry.cost_usd);

    return v_doc || '{"status": "hit"}'::jsonb;
  end if;

  if p_lease_owner is not null then
    if p_lease_ms is null or p_lease_ms < 1 or p_lease_ms > 600000 then
      raise exception 'cache_lookup: p_lease_ms must be between 1 and 600000' using errcode = '22023';
    end if;

    -- Cheap read first: when someone else holds a live lease, report it without locking.
    if p_company_id is null then
      select l.owner, l.expires_at into v_lease_owner, v_lease_expires_at
      from private.ai_cache_leases l where l.company_id is null and l.cache_key = p_cache_key;
    else
      select l.owner, l.expires_at into v_lease_owner, v_lease_expires_at
      from private.ai_cache_leases l where l.company_id = p_company_id and l.cache_key = p_cache_key;
    end if;

    if found and v_lease_expires_at > v_now and v_lease_owner <> p_lease_owner then
      v_lease := 'held';
    else
      v_lease_expires_at := private.cache_take_lease(p_company_id, p_cache_key, p_cache_type, p_lease_owner, p_lease_ms, v_now);

      if v_lease_expires_at is not null then
        v_lease := 'acquired';
        -- The previous leader may have stored its answer and released the lease between our
        -- read of the entry and our upsert (both commit together): look again, now that a
        -- new statement sees its commit, and serve that answer instead of calling the model.
        if v_attempt = 1 then
          if p_company_id is null then
            select c.created_at, c.expires_at into v_recheck_created_at, v_recheck_expires_at
            from public.ai_cache c where c.company_id is null and c.cache_key = p_cache_key;
          else
            select c.created_at, c.expires_at into v_recheck_created_at, v_recheck_expires_at
            from public.ai_cache c where c.company_id = p_company_id and c.cache_key = p_cache_key;
          end if;
          if v_recheck_expires_at > v_now
             and (p_max_age_seconds is null
                  or v_now - v_recheck_created_at <= make_interval(secs => p_max_age_seconds)) then
            if p_company_id is null then
              delete from private.ai_cache_leases l
              where l.company_id is null and l.cache_key = p_cache_key and l.owner = p_lease_owner;
            else
              delete from private.ai_cache_leases l
              where l.company_id = p_company_id and l.cache_key = p_cache_key and l.owner = p_lease_owner;
            end if;
            v_attempt := 2;
            continue attempt;
          end if;
        end if;
      else
        -- Lost the race: another caller took it between the read and the upsert.
        v_lease := 'held';
        if p_company_id is null then
          select l.expires_at into v_lease_expires_at
          from private.ai_cache_leases l where l.company_id is null and l.cache_key = p_cache_key;
        else
          select l.expires_at into v_lease_expires_at
          from private.ai_cache_leases l where l.company_id = p_company_id and l.cache_key = p_cache_key;
        end if;
      end if;
    end if;
  end if;

  -- A caller that waits on another's lease is not a miss yet: it is counted once it is
  -- served (a coalesced hit, by cache_poll) or takes the lease over (a miss, by cache_poll),
  -- so every request is counted exactly once.
  if v_lease is distinct from 'held' then
    insert into private.ai_cache_events (company_id, cache_type, cache_id, kind)
    values (p_company_id, p_cache_type, v_entry.id, 'miss');
  end if;

  return jsonb_build_object(
    'status', 'miss',
    'stale', case when v_found
                  then v_doc || jsonb_build_object('expired', v_entry.expires_at <= v_now)
             end,
    'lease', v_lease,
    'lease_expires_at', v_lease_expires_at
  );
  end loop attempt;
end;
$$;

/*
 * public.cache_peek(p_company_id uuid, p_cache_key text, p_max_age_seconds integer default null)
 *   -> jsonb | null
 * The hit document of cache_lookup ({ status: 'hit', ... }) for a fresh entry, or null.
 * Records nothing and takes no lock: for waiters polling while another caller holds the
 * lease (a waiter that serves the entry may count it with increment_cache_hit_count).
 * Service role only.
 */
create or replace function public.cache_peek(
  p_company_id uuid,
  p_cache_key text,
  p_max_age_seconds integer default null
)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_now timestamptz := now();
  v_entry public.ai_cache;
begin
  if p_company_id is null then
    select * into v_entry from public.ai_cache c
    where c.company_id is null and c.cache_key = p_cache_key;
  else
    select * into v_entry from public.ai_cache c
    where c.company_id = p_company_id and c.cache_key = p_cache_key;
  end if;

  if found
     and v_entry.expires_at > v_now
     and (p_max_age_seconds is null
          or v_now - v_entry.created_at <= make_interval(secs => p_max_age_seconds)) then
    return jsonb_build_object(
      'status', 'hit',
      'id', v_entry.id,
      'cache_type', v_entry.cache_type,
      'model', v_entry.model,
      'key_version', v_entry.key_version,
      'cached_result', v_entry.cached_result,
      'created_at', v_entry.created_at,
      'expires_at', v_entry.expires_at,
      'age_seconds', greatest(0, floor(extract(epoch from v_now - v_entry.created_at)))::bigint,
      'prompt_tokens', v_entry.prompt_tokens,
      'completion_tokens', v_entry.completion_tokens,
      'total_tokens', v_entry.total_tokens,
      'cost_usd', v_entry.cost_usd
    );
  end if;
  return null;
end;
$$;

/*
 * public.cache_store(p_company_id uuid, p_cache_key text, p_cache_type text, p_model text,
 *                    p_request jsonb, p_result jsonb, p_prompt_tokens integer,
 *                    p_completion_tokens integer, p_cost_usd numeric, p_ttl_seconds integer,
 *                    p_key_version smallint default 1, p_lease_owner text default null) -> jsonb
 * Upserts the entry of (p_company_id, p_cache_key): a new row, or the existing one with its
 * result, request, model, tokens and cost replaced and created_at/expires_at reset to
 * now() / now() + p_ttl_seconds (hit_count/last_hit_at are kept: they count the key).
 * Records an 'upstream_call' event with the tokens and cost of the call, and releases the
 * lease when p_lease_owner owns it. Null token counts / cost are stored as 0.
 * Returns { id, created_at, expires_at, lease_released: boolean }.
 * Errors: 22023 when p_ttl_seconds < 1 or p_result is null; 23514 (check violation) for a
 * malformed cache_key / cache_type. Service role only.
 */
create or replace function public.cache_store(
  p_company_id uuid,
  p_cache_key text,
  p_cache_type text,
  p_model text,
  p_request jsonb,
  p_result jsonb,
  p_prompt_tokens integer,
  p_completion_tokens integer,
  p_cost_usd numeric,
  p_ttl_seconds integer,
  p_key_version smallint default 1,
  p_lease_owner text default null
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_now timestamptz := now();
  v_id bigint;
  v_created_at timestamptz;
  v_expires_at timestamptz;
  v_released integer := 0;
begin
  if p_ttl_seconds is null or p_ttl_seconds < 1 then
    raise exception 'cache_store: p_ttl_seconds must be >= 1' using errcode = '22023';
  end if;
  if p_result is null then
    raise exception 'cache_store: p_result is required' using errcode = '22023';
  end if;

  insert into public.ai_cache as c (
    company_id, cache_key, cache_type, model, key_version, request, cached_result,
    prompt_tokens, completion_tokens, cost_usd, created_at, expires_at
  )
  values (
    p_company_id, p_cache_key, p_cache_type, p_model, coalesce(p_key_version, 1), p_request, p_result,
    coalesce(p_prompt_tokens, 0), coalesce(p_completion_tokens, 0), coalesce(p_cost_usd, 0),
    v_now, v_now + make_interval(secs => p_ttl_seconds)
  )
  on conflict (company_id, cache_key) do update
    set cache_type        = excluded.cache_type,
        model             = excluded.model,
        key_version       = excluded.key_version,
        request           = excluded.request,
        cached_result     = excluded.cached_result,
        prompt_tokens     = excluded.prompt_tokens,
        completion_tokens = excluded.completion_tokens,
        cost_usd          = excluded.cost_usd,
        created_at        = excluded.created_at,
        expires_at        = excluded.expires_at
  returning c.id, c.created_at, c.expires_at into v_id, v_created_at, v_expires_at;

  insert into private.ai_cache_events (company_id, cache_type, cache_id, kind, tokens, cost_usd)
  values (p_company_id, p_cache_type, v_id, 'upstream_call',
          coalesce(p_prompt_tokens, 0) + coalesce(p_completion_tokens, 0), coalesce(p_cost_usd, 0));

  if p_lease_owner is not null then
    if p_company_id is null then
      delete from private.ai_cache_leases l
      where l.company_id is null and l.cache_key = p_cache_key and l.owner = p_lease_owner;
    else
      delete from private.ai_cache_leases l
      where l.company_id = p_company_id and l.cache_key = p_cache_key and l.owner = p_lease_owner;
    end if;
    get diagnostics v_released = row_count;
  end if;

  return jsonb_build_object(
    'id', v_id,
    'created_at', v_created_at,
    'expires_at', v_expires_at,
    'lease_released', v_released > 0
  );
end;
$$;

/*
 * public.cache_release_lease(p_company_id uuid, p_cache_key text, p_lease_owner text,
 *                            p_error boolean default false, p_cache_type text default null)
 *   -> void
 * Drops the lease of (p_company_id, p_cache_key) if p_lease_owner owns it (no-op otherwise).
 * With p_error, records an 'upstream_error' event whether or not a lease was owned; its
 * cache_type is p_cache_type, else the lease's, else the stored entry's, else 'unknown'.
 * Service role only.
 */
create or replace function public.cache_release_lease(
  p_company_id uuid,
  p_cache_key text,
  p_lease_owner text,
  p_error boolean default false,
  p_cache_type text default null
)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_lease_type text;
  v_entry_type text;
begin
  if p_company_id is null then
    delete from private.ai_cache_leases l
    where l.company_id is null and l.cache_key = p_cache_key and l.owner = p_lease_owner
    returning l.cache_type into v_lease_type;
  else
    delete from private.ai_cache_leases l
    where l.company_id = p_company_id and l.cache_key = p_cache_key and l.owner = p_lease_owner
    returning l.cache_type into v_lease_type;
  end if;

  if coalesce(p_error, false) then
    if p_cache_type is null and v_lease_type is null then
      if p_company_id is null then
        select c.cache_type into v_entry_type from public.ai_cache c
        where c.company_id is null and c.cache_key = p_cache_key;
      else
        select c.cache_type into v_entry_type from public.ai_cache c
        where c.company_id = p_company_id and c.cache_key = p_cache_key;
      end if;
    end if;

    insert into private.ai_cache_events (company_id, cache_type, kind)
    values (p_company_id, coalesce(p_cache_type, v_lease_type, v_entry_type, 'unknown'), 'upstream_error');
  end if;
end;
$$;

-- ---------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------
revoke all on table private.ai_cache_leases from public, anon, authenticated;
grant select, insert, update, delete on table private.ai_cache_leases to service_role;

revoke all on function private.cache_take_lease(uuid, text, text, text, integer, timestamptz) from public, anon, authenticated, service_role;
grant execute on function private.cache_take_lease(uuid, text, text, text, integer, timestamptz) to service_role;

revoke all on function public.cache_lookup(uuid, text, text, integer, text, integer) from public, anon, authenticated, service_role;
revoke all on function public.cache_peek(uuid, text, integer) from public, anon, authenticated, service_role;
revoke all on function public.cache_store(uuid, text, text, text, jsonb, jsonb, integer, integer, numeric, integer, smallint, text) from public, anon, authenticated, service_role;
revoke all on function public.cache_release_lease(uuid, text, text, boolean, text) from public, anon, authenticated, service_role;

grant execute on function public.cache_lookup(uuid, text, text, integer, text, integer) to service_role;
grant execute on function public.cache_peek(uuid, text, integer) to service_role;
grant execute on function public.cache_store(uuid, text, text, text, jsonb, jsonb, integer, integer, numeric, integer, smallint, text) to service_role;
grant execute on function public.cache_release_lease(uuid, text, text, boolean, text) to service_role;
