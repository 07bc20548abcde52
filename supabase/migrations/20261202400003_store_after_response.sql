/*
 * Answers stored after the response, without a window in which the same request is sent to
 * poll: ai-suggest and ai-gateway now answer a miss first and store the entry afterwards
 * (EdgeRuntime.waitUntil), sending the store before the response leaves the function. A
 * client that repeats the request at once must still get a HIT. Two changes make that so:
 *
 *   cache_store   drops the lease first, then upserts the entry (one transaction, as before):
 *                 from its first statement it holds the lease row's lock until the entry
 *                 commits;
 *                 It also commits asynchronously (synchronous_commit = off, as cache_lookup
 *                 does): an entry stored after the response was never promised durable (a
 *                 crash loses it, and the next request is a miss), and an asynchronous commit
 *                 is visible to other sessions as soon as it is made, without the WAL flush;
 *                 chat_turn_complete, whose transaction also holds a member's turn, switches
 *                 back to a synchronous commit;
 *   cache_lookup  reads the lease FOR KEY SHARE, which waits only on a transaction deleting
 *                 the lease (never on renewals, which update no key column): after that commit
 *                 the lease is gone, the lookup takes it, re-reads the entry (the existing
 *                 recheck) and serves it as a hit.
 *
 * Contracts are otherwise those of 20261121000005_ai_cache_hot_path.sql.
 */

-- ---------------------------------------------------------------------------------------
-- Functions
-- ---------------------------------------------------------------------------------------

/*
 * public.cache_lookup(p_company_id uuid, p_cache_key text, p_cache_type text,
 *                     p_max_age_seconds integer default null,
 *                     p_lease_owner text default null, p_lease_ms integer default 30000) -> jsonb
 * As in 20261121000005 (hit, or miss + stale + single-flight lease); a lease being dropped by
 * a concurrent cache_store is waited for, so the answer it stores is served as a hit.
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

    -- Read first: when someone else holds a live lease, report it without taking it. FOR KEY
    -- SHARE waits only while a transaction is dropping the lease (cache_store storing the
    -- leader's answer, which it does first): then the answer is about to be visible, and
    -- waiting those milliseconds serves it as a hit instead of sending this request to poll.
    if p_company_id is null then
      select l.owner, l.expires_at into v_lease_owner, v_lease_expires_at
      from private.ai_cache_leases l where l.company_id is null and l.cache_key = p_cache_key
      for key share;
    else
      select l.owner, l.expires_at into v_lease_owner, v_lease_expires_at
      from private.ai_cache_leases l where l.company_id = p_company_id and l.cache_key = p_cache_key
      for key share;
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
 * public.cache_store(p_company_id uuid, p_cache_key text, p_cache_type text, p_model text,
 *                    p_request jsonb, p_result jsonb, p_prompt_tokens integer,
 *                    p_completion_tokens integer, p_cost_usd numeric, p_ttl_seconds integer,
 *                    p_key_version smallint default 1, p_lease_owner text default null) -> jsonb
 * As in 20261121000005: upserts the entry, records the upstream call and drops p_lease_owner's
 * lease, in one transaction; the lease is now dropped first, and the commit is asynchronous
 * (see the header).
 * Returns { id, created_at, expires_at, lease_released }. Service role only.
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

  -- A cache entry may be lost in a crash (the next request is a miss): do not wait for the
  -- WAL flush. Callers that store more in the same transaction set it back on.
  perform pg_catalog.set_config('synchronous_commit', 'off', true);

  -- The lease goes first: its row lock makes a concurrent cache_lookup of the same key wait
  -- for this commit (and then see the entry) rather than find the lease still held.
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


  return jsonb_build_object(
    'id', v_id,
    'created_at', v_created_at,
    'expires_at', v_expires_at,
    'lease_released', v_released > 0
  );
end;
$$;

/*
 * public.chat_turn_complete(...) -> jsonb
 * As in 20261202100002_chat_turn_outcomes.sql; the turn commits synchronously whatever
 * cache_store switched (an acknowledged answer is durable).
 */
create or replace function public.chat_turn_complete(
  p_user_id uuid,
  p_company_id uuid,
  p_conversation_id uuid,
  p_context_type text,
  p_user_message text,
  p_content text,
  p_tokens_used integer,
  p_model text,
  p_from_cache boolean,
  p_metadata jsonb default '{}'::jsonb,
  p_store jsonb default null,
  p_idempotency jsonb default null,
  p_response jsonb default null,
  p_uncached_call jsonb default null
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_stored jsonb;
  v_cache jsonb;
begin
  perform private.assert_company_member(p_user_id, p_company_id);
  perform private.assert_chat_scope(p_company_id, p_store);
  if p_conversation_id is null then
    raise exception 'chat_turn_complete: p_conversation_id is required' using errcode = '22023';
  end if;

  v_stored := private.chat_turn_store(
    p_user_id, p_company_id, p_conversation_id, p_context_type, p_user_message,
    jsonb_build_object('content', p_content, 'metadata', coalesce(p_metadata, '{}'::jsonb),
                       'tokens_used', p_tokens_used, 'model', p_model, 'from_cache', p_from_cache)
  );

  if p_store is not null then
    v_cache := public.cache_store(
      (p_store ->> 'company_id')::uuid,
      p_store ->> 'cache_key',
      p_store ->> 'cache_type',
      p_store ->> 'model',
      p_store -> 'request',
      p_store -> 'result',
      (p_store ->> 'prompt_tokens')::integer,
      (p_store ->> 'completion_tokens')::integer,
      (p_store ->> 'cost_usd')::numeric,
      (p_store ->> 'ttl_seconds')::integer,
      coalesce((p_store ->> 'key_version')::smallint, 1::smallint),
      p_store ->> 'lease_owner'
    );
  end if;

  if p_uncached_call is not null then
    perform public.cache_record_call(
      p_company_id,
      coalesce(p_uncached_call ->> 'cache_type', 'chat'),
      (p_uncached_call ->> 'prompt_tokens')::integer,
      (p_uncached_call ->> 'completion_tokens')::integer,
      (p_uncached_call ->> 'cost_usd')::numeric
    );
  end if;

  perform private.chat_turn_finish_key(p_user_id, p_company_id, p_idempotency, v_stored, p_response);

  -- cache_store commits asynchronously; this transaction holds the user's turn, which an
  -- acknowledged answer must keep: the setting in force at commit is what counts.
  perform pg_catalog.set_config('synchronous_commit', 'on', true);
  return v_stored || jsonb_build_object('cache', v_cache);
end;
$$;
