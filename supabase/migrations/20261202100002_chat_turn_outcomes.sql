/*
 * Chat turns written with their outcome, identity checked in the database, Idempotency-Key.
 *
 * Replaces chat_turn / chat_turn_complete (migration 20261121100000) with versions that:
 *
 * 1. Write a turn only once its answer exists. chat_turn stores nothing on a miss: no
 *    conversation, no user message (only the single-flight lease and the miss statistic).
 *    The user message and the assistant message are inserted together, by chat_turn on a
 *    hit or by chat_turn_complete once the model (or a coalesced/stale entry) answered, in
 *    one transaction. So an `only-if-cached` 504, a model failure, a timeout or a client
 *    abort leave no orphan question that would poison the next turn's history and key.
 *    A new conversation gets its id from chat_turn (returned as conversation_id with
 *    created = false) and is inserted with that id when the turn is stored.
 *
 * 2. Check identity themselves. Rule: these RPCs are called by the Edge Functions with the
 *    service-role key and p_user_id taken from the caller's verified JWT (end users cannot
 *    execute them). Every one of them checks, in the database, that p_user_id is a member of
 *    p_company_id (42501 otherwise), that the conversation belongs to p_user_id in
 *    p_company_id (P0002 otherwise), and that the cache scope it is handed (p_cache.company_id,
 *    p_store.company_id) IS p_company_id (42501 otherwise: chat entries are always scoped to
 *    the company whose membership was checked). chat_turn_complete re-checks membership, so
 *    a member removed while the model was answering stores nothing.
 *
 * 3. Idempotency-Key. A turn may carry a client key, remembered per (user, company, key) for
 *    24 hours in private.ai_chat_idempotency. The first request claims the key (state
 *    'pending', claim expiring after claim_ms) and completes it with the ids of the stored
 *    messages (state 'done'). A retry with the same key and the same request gets the same
 *    turn back ('replay': same conversation_id, message_id, answer) without a model call; a
 *    concurrent duplicate finds the claim ('in_progress') and polls until it is done; a
 *    different request under a used key is refused ('mismatch'). A failed turn releases its
 *    claim (chat_turn_release) so a retry runs normally. Expired keys are deleted by the
 *    pg_cron job ai-chat-idempotency-cleanup.
 *
 * Errors: 42501 not a member or scope mismatch (→ 403), P0002 conversation not found for
 * this user and company (→ 404), 22023 bad argument (→ 400).
 */

-- ---------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------
create table private.ai_chat_idempotency (
  id                   bigint generated always as identity primary key,
  user_id              uuid not null,
  company_id           uuid not null,
  idempotency_key      text not null
                       constraint ai_chat_idempotency_key_check check (char_length(idempotency_key) between 1 and 255),
  request_hash         text not null
                       constraint ai_chat_idempotency_request_hash_check check (char_length(request_hash) between 1 and 128),
  state                text not null
                       constraint ai_chat_idempotency_state_check check (state in ('pending', 'done')),
  claim_owner          text
                       constraint ai_chat_idempotency_claim_owner_check check (char_length(claim_owner) <= 200),
  claim_expires_at     timestamptz,
  conversation_id      uuid,
  user_message_id      uuid,
  assistant_message_id uuid,
  -- What the answer's response carried besides its text (model, usage, from_cache, cache):
  -- the text itself is read back from ai_messages, never copied here.
  response             jsonb,
  created_at           timestamptz not null default now(),
  expires_at           timestamptz not null,
  constraint ai_chat_idempotency_user_id_company_id_key_key unique (user_id, company_id, idempotency_key)
);

comment on table private.ai_chat_idempotency is
  'Idempotency-Key of ai-chat turns, per (user, company, key), kept 24 h: a retry replays the stored turn.';

-- ---------------------------------------------------------------------------------------
-- Indexes
-- ---------------------------------------------------------------------------------------
-- Cleanup walks expired keys in (expires_at, id) order (unique by construction).
create unique index ai_chat_idempotency_expires_at_id_idx on private.ai_chat_idempotency (expires_at, id);

-- ---------------------------------------------------------------------------------------
-- RLS
-- ---------------------------------------------------------------------------------------
alter table private.ai_chat_idempotency enable row level security;

create policy "No direct access for API roles"
  on private.ai_chat_idempotency
  as restrictive
  for all
  to anon, authenticated
  using (false)
  with check (false);

-- ---------------------------------------------------------------------------------------
-- Functions
-- ---------------------------------------------------------------------------------------
drop function if exists public.chat_turn(uuid, uuid, uuid, text, text, jsonb);
drop function if exists public.chat_turn_complete(uuid, uuid, uuid, text, integer, text, boolean, jsonb, jsonb);

/*
 * private.assert_chat_scope(p_company_id uuid, p_scope jsonb) -> void
 * Raises 42501 unless p_scope is null or p_scope.company_id equals p_company_id: the cache
 * scope of a chat turn is always the company whose membership was checked.
 */
create or replace function private.assert_chat_scope(p_company_id uuid, p_scope jsonb)
returns void
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
  if p_scope is not null and (p_scope ->> 'company_id') is distinct from p_company_id::text then
    raise exception 'cache scope % is not company %', coalesce(p_scope ->> 'company_id', 'global'), p_company_id
      using errcode = '42501';
  end if;
end;
$$;

/*
 * private.chat_turn_replay(p_row private.ai_chat_idempotency) -> jsonb | null
 * The stored turn of a completed key: { conversation_id, message_id, user_message_id,
 * message (the assistant's text, read from ai_messages), model, usage, from_cache, cache },
 * or null when its messages were deleted since (the key is then forgotten).
 */
create or replace function private.chat_turn_replay(p_row private.ai_chat_idempotency)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select coalesce(p_row.response, '{}'::jsonb) || jsonb_build_object(
    'conversation_id', p_row.conversation_id,
    'message_id', p_row.assistant_message_id,
    'user_message_id', p_row.user_message_id,
    'message', m.content
  )
  from public.ai_messages m
  where m.id = p_row.assistant_message_id and m.conversation_id = p_row.conversation_id;
$$;

/*
 * private.chat_turn_claim(p_user_id uuid, p_company_id uuid, p_idempotency jsonb) -> jsonb
 * p_idempotency: { key, request_hash, owner, claim_ms }. Returns
 *   { state: 'claimed' }                the caller owns the key until claim_ms elapse;
 *   { state: 'replay', replay: {...} }  the key's turn is stored: answer with it;
 *   { state: 'in_progress' }            another request holds the claim: poll again;
 *   { state: 'mismatch' }               the key was used for a different request.
 * Done keys live 24 h; a pending claim past its expiry (its request died) is taken over.
 */
create or replace function private.chat_turn_claim(p_user_id uuid, p_company_id uuid, p_idempotency jsonb)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_key text := p_idempotency ->> 'key';
  v_hash text := p_idempotency ->> 'request_hash';
  v_owner text := p_idempotency ->> 'owner';
  v_claim_ms integer := coalesce((p_idempotency ->> 'claim_ms')::integer, 150000);
  v_now timestamptz := now();
  v_row private.ai_chat_idempotency;
  v_replay jsonb;
begin
  if v_key is null or v_hash is null or v_owner is null or v_claim_ms < 1 or v_claim_ms > 600000 then
    raise exception 'chat_turn: p_idempotency needs key, request_hash, owner and claim_ms (1 .. 600000)'
      using errcode = '22023';
  end if;

  insert into private.ai_chat_idempotency as i (
    user_id, company_id, idempotency_key, request_hash, state, claim_owner, claim_expires_at, expires_at
  )
  values (p_user_id, p_company_id, v_key, v_hash, 'pending', v_owner,
          v_now + make_interval(secs => v_claim_ms / 1000.0), v_now + interval '24 hours')
  on conflict (user_id, company_id, idempotency_key) do update
    set request_hash = excluded.request_hash,
        state = 'pending',
        claim_owner = excluded.claim_owner,
        claim_expires_at = excluded.claim_expires_at,
        conversation_id = null,
        user_message_id = null,
        assistant_message_id = null,
        response = null,
        created_at = v_now,
        expires_at = excluded.expires_at
    where i.expires_at <= v_now
       or (i.state = 'pending' and i.claim_expires_at <= v_now and i.request_hash = excluded.request_hash)
  returning * into v_row;
  if found then
    return jsonb_build_object('state', 'claimed');
  end if;

  select * into v_row from private.ai_chat_idempotency i
  where i.user_id = p_user_id and i.company_id = p_company_id and i.idempotency_key = v_key;
  if v_row.request_hash <> v_hash then
    return jsonb_build_object('state', 'mismatch');
  end if;
  if v_row.state = 'pending' then
    return jsonb_build_object('state', 'in_progress', 'claim_expires_at', v_row.claim_expires_at);
  end if;
  v_replay := private.chat_turn_replay(v_row);
  if v_replay is null then
    -- The turn was deleted by its user since: forget the key and run the request again.
    update private.ai_chat_idempotency i
    set state = 'pending', claim_owner = v_owner,
        claim_expires_at = v_now + make_interval(secs => v_claim_ms / 1000.0),
        conversation_id = null, user_message_id = null, assistant_message_id = null, response = null
    where i.id = v_row.id;
    return jsonb_build_object('state', 'claimed');
  end if;
  return jsonb_build_object('state', 'replay', 'replay', v_replay);
end;
$$;

/*
 * private.chat_turn_store(p_user_id uuid, p_company_id uuid, p_conversation_id uuid,
 *   p_context_type text, p_user_message text, p_assistant jsonb) -> jsonb
 * Stores one answered turn in one go: the conversation when it does not exist yet (with the
 * id given, title = the question's first 80 characters), then the user message and the
 * assistant message (p_assistant: { content, metadata, tokens_used, model, from_cache }).
 * A conversation id that exists for another user or company is P0002.
 * Returns { conversation_id, created, user_message_id, assistant_message_id }.
 */
create or replace function private.chat_turn_store(
  p_user_id uuid,
  p_company_id uuid,
  p_conversation_id uuid,
  p_context_type text,
  p_user_message text,
  p_assistant jsonb
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_created boolean := false;
  v_user_message_id uuid;
  v_assistant_message_id uuid;
begin
  if p_user_message is null or pg_catalog.length(p_user_message) = 0 then
    raise exception 'chat turn: the user message is required' using errcode = '22023';
  end if;
  insert into public.ai_conversations (id, company_id, user_id, title, context_type)
  values (p_conversation_id, p_company_id, p_user_id, pg_catalog.left(p_user_message, 80),
          coalesce(p_context_type, 'general'))
  on conflict (id) do nothing;
  v_created := found;
  if not v_created then
    perform private.assert_own_conversation(p_user_id, p_company_id, p_conversation_id);
  end if;

  insert into public.ai_messages (conversation_id, role, content)
  values (p_conversation_id, 'user', p_user_message)
  returning id into v_user_message_id;

  insert into public.ai_messages (conversation_id, role, content, metadata, tokens_used, model, from_cache)
  values (p_conversation_id, 'assistant', coalesce(p_assistant ->> 'content', ''),
          coalesce(p_assistant -> 'metadata', '{}'::jsonb), (p_assistant ->> 'tokens_used')::integer,
          p_assistant ->> 'model', coalesce((p_assistant ->> 'from_cache')::boolean, false))
  returning id into v_assistant_message_id;

  return jsonb_build_object(
    'conversation_id', p_conversation_id,
    'created', v_created,
    'user_message_id', v_user_message_id,
    'assistant_message_id', v_assistant_message_id
  );
end;
$$;

/*
 * private.chat_turn_finish_key(p_user_id uuid, p_company_id uuid, p_idempotency jsonb,
 *   p_stored jsonb, p_response jsonb) -> void
 * Marks the key the caller claimed as done with the stored turn's ids (p_stored, from
 * chat_turn_store) and the response metadata. No-op without p_idempotency.
 */
create or replace function private.chat_turn_finish_key(
  p_user_id uuid,
  p_company_id uuid,
  p_idempotency jsonb,
  p_stored jsonb,
  p_response jsonb
)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  if p_idempotency is null then
    return;
  end if;
  update private.ai_chat_idempotency i
  set state = 'done',
      claim_owner = null,
      claim_expires_at = null,
      conversation_id = (p_stored ->> 'conversation_id')::uuid,
      user_message_id = (p_stored ->> 'user_message_id')::uuid,
      assistant_message_id = (p_stored ->> 'assistant_message_id')::uuid,
      response = p_response
  where i.user_id = p_user_id and i.company_id = p_company_id
    and i.idempotency_key = p_idempotency ->> 'key'
    and i.claim_owner = p_idempotency ->> 'owner';
end;
$$;

/*
 * public.chat_turn(p_user_id uuid, p_company_id uuid, p_conversation_id uuid,
 *                  p_context_type text, p_message text, p_cache jsonb default null,
 *                  p_idempotency jsonb default null) -> jsonb
 * Starts a turn. Checks membership, the conversation's owner (when p_conversation_id is
 * given) and that p_cache's scope is p_company_id. With p_idempotency ({key, request_hash,
 * owner, claim_ms}) it first claims the key (see private.chat_turn_claim); a replay,
 * in-progress or mismatch answer returns before anything else happens.
 * With p_cache ({company_id, cache_key, cache_type, max_age_seconds?, lease_owner?,
 * lease_ms?}) it runs cache_lookup; on a hit it stores the whole turn (conversation when new,
 * user message, assistant message with from_cache = true and tokens_used = 0) and completes
 * the key. On a miss it writes NO conversation and NO message; when p_cache.lease_owner is
 * null (only-if-cached: the caller will not call the model) it also gives the key back.
 * Returns { conversation_id (new conversations: the id it will be stored under),
 *           created, user_message_id, assistant_message_id (null unless stored),
 *           lookup: <cache_lookup result> | null,
 *           idempotency: null | 'claimed' | 'replay' | 'in_progress' | 'mismatch',
 *           replay: <stored turn> | null }.
 * Service role only (p_user_id from a verified JWT).
 */
create or replace function public.chat_turn(
  p_user_id uuid,
  p_company_id uuid,
  p_conversation_id uuid,
  p_context_type text,
  p_message text,
  p_cache jsonb default null,
  p_idempotency jsonb default null
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_conversation_id uuid := coalesce(p_conversation_id, pg_catalog.gen_random_uuid());
  v_claim jsonb;
  v_lookup jsonb;
  v_stored jsonb;
begin
  perform private.assert_company_member(p_user_id, p_company_id);
  perform private.assert_chat_scope(p_company_id, p_cache);
  if p_message is null or pg_catalog.length(p_message) = 0 then
    raise exception 'chat_turn: p_message is required' using errcode = '22023';
  end if;
  if p_conversation_id is not null then
    perform private.assert_own_conversation(p_user_id, p_company_id, p_conversation_id);
  end if;

  if p_idempotency is not null then
    v_claim := private.chat_turn_claim(p_user_id, p_company_id, p_idempotency);
    if v_claim ->> 'state' <> 'claimed' then
      return jsonb_build_object(
        'conversation_id', coalesce(v_claim -> 'replay' ->> 'conversation_id', p_conversation_id::text),
        'created', false, 'user_message_id', null, 'assistant_message_id', null, 'lookup', null,
        'idempotency', v_claim ->> 'state', 'replay', v_claim -> 'replay'
      );
    end if;
  end if;

  if p_cache is not null then
    v_lookup := public.cache_lookup(
      (p_cache ->> 'company_id')::uuid,
      p_cache ->> 'cache_key',
      p_cache ->> 'cache_type',
      (p_cache ->> 'max_age_seconds')::integer,
      p_cache ->> 'lease_owner',
      coalesce((p_cache ->> 'lease_ms')::integer, 30000)
    );
    if v_lookup ->> 'status' = 'hit' then
      -- cache_lookup commits asynchronously (statistics may be lost in a crash), but this
      -- transaction also holds the user's messages, which an acknowledged answer must keep.
      perform pg_catalog.set_config('synchronous_commit', 'on', true);
      v_stored := private.chat_turn_store(
        p_user_id, p_company_id, v_conversation_id, p_context_type, p_message,
        jsonb_build_object(
          'content', coalesce(v_lookup -> 'cached_result' -> 'message' ->> 'content', ''),
          'metadata', jsonb_build_object('cache', 'HIT', 'cache_id', v_lookup -> 'id',
                                         'age_seconds', v_lookup -> 'age_seconds',
                                         'tokens_saved', v_lookup -> 'total_tokens'),
          'tokens_used', 0, 'model', v_lookup ->> 'model', 'from_cache', true
        )
      );
      perform private.chat_turn_finish_key(p_user_id, p_company_id, p_idempotency, v_stored,
        jsonb_build_object('model', v_lookup ->> 'model', 'from_cache', true, 'cache', 'HIT',
                           'usage', jsonb_build_object('prompt_tokens', v_lookup -> 'prompt_tokens',
                                                       'completion_tokens', v_lookup -> 'completion_tokens',
                                                       'total_tokens', v_lookup -> 'total_tokens')));
    elsif p_cache ->> 'lease_owner' is null and p_idempotency is not null then
      -- only-if-cached miss: a read that writes nothing, the key included.
      delete from private.ai_chat_idempotency i
      where i.user_id = p_user_id and i.company_id = p_company_id
        and i.idempotency_key = p_idempotency ->> 'key' and i.claim_owner = p_idempotency ->> 'owner';
    end if;
  end if;

  return jsonb_build_object(
    'conversation_id', v_conversation_id,
    'created', coalesce((v_stored ->> 'created')::boolean, false),
    'user_message_id', v_stored -> 'user_message_id',
    'assistant_message_id', v_stored -> 'assistant_message_id',
    'lookup', v_lookup,
    'idempotency', case when p_idempotency is not null then 'claimed' end,
    'replay', null
  );
end;
$$;

/*
 * public.chat_turn_complete(p_user_id uuid, p_company_id uuid, p_conversation_id uuid,
 *   p_context_type text, p_user_message text, p_content text, p_tokens_used integer,
 *   p_model text, p_from_cache boolean, p_metadata jsonb default '{}',
 *   p_store jsonb default null, p_idempotency jsonb default null,
 *   p_response jsonb default null, p_uncached_call jsonb default null) -> jsonb
 * Stores an answered turn (after a miss: the model's answer, or a COALESCED / STALE entry):
 * re-checks membership and the scope of p_store, creates the conversation when new, inserts
 * the user message and the assistant message, and with p_store ({company_id, cache_key,
 * cache_type, model, request, result, prompt_tokens, completion_tokens, cost_usd,
 * ttl_seconds, key_version, lease_owner}) the cache entry through cache_store, and completes
 * the idempotency key (p_response: what a replay answers besides the text); with
 * p_uncached_call ({cache_type, prompt_tokens, completion_tokens, cost_usd}) it records the
 * spend of a model answer that is not cached (cache_record_call, in the company's scope); all in one
 * transaction: an acknowledged answer is never half-saved.
 * Returns { conversation_id, created, user_message_id, assistant_message_id,
 *           cache: <cache_store result> | null }. Service role only.
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

  return v_stored || jsonb_build_object('cache', v_cache);
end;
$$;

/*
 * public.chat_turn_release(p_user_id uuid, p_company_id uuid, p_idempotency jsonb) -> void
 * Gives back an idempotency key the caller claimed ({key, owner}) when its turn failed
 * (model error, timeout, client abort), so a retry with the same key runs normally.
 * No-op when the caller does not own a pending claim on that key. Service role only.
 */
create or replace function public.chat_turn_release(p_user_id uuid, p_company_id uuid, p_idempotency jsonb)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  delete from private.ai_chat_idempotency i
  where i.user_id = p_user_id and i.company_id = p_company_id
    and i.idempotency_key = p_idempotency ->> 'key'
    and i.claim_owner = p_idempotency ->> 'owner'
    and i.state = 'pending';
end;
$$;

/*
 * private.chat_idempotency_cleanup() -> integer
 * Deletes expired idempotency keys (older than 24 h); returns how many. pg_cron job
 * ai-chat-idempotency-cleanup (hourly, as postgres) and the service role.
 */
create or replace function private.chat_idempotency_cleanup()
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_deleted integer;
begin
  delete from private.ai_chat_idempotency i where i.expires_at <= now();
  get diagnostics v_deleted = row_count;
  return v_deleted;
end;
$$;

-- ---------------------------------------------------------------------------------------
-- Jobs
-- ---------------------------------------------------------------------------------------
select cron.schedule('ai-chat-idempotency-cleanup', '17 * * * *', $$select private.chat_idempotency_cleanup()$$);

-- ---------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------
revoke all on table private.ai_chat_idempotency from public, anon, authenticated;
grant select, insert, update, delete on table private.ai_chat_idempotency to service_role;

revoke all on function private.assert_chat_scope(uuid, jsonb) from public, anon, authenticated, service_role;
revoke all on function private.chat_turn_replay(private.ai_chat_idempotency) from public, anon, authenticated, service_role;
revoke all on function private.chat_turn_claim(uuid, uuid, jsonb) from public, anon, authenticated, service_role;
revoke all on function private.chat_turn_store(uuid, uuid, uuid, text, text, jsonb) from public, anon, authenticated, service_role;
revoke all on function private.chat_turn_finish_key(uuid, uuid, jsonb, jsonb, jsonb) from public, anon, authenticated, service_role;
revoke all on function private.chat_idempotency_cleanup() from public, anon, authenticated, service_role;
revoke all on function public.chat_turn(uuid, uuid, uuid, text, text, jsonb, jsonb) from public, anon, authenticated, service_role;
revoke all on function public.chat_turn_complete(uuid, uuid, uuid, text, text, text, integer, text, boolean, jsonb, jsonb, jsonb, jsonb, jsonb) from public, anon, authenticated, service_role;
revoke all on function public.chat_turn_release(uuid, uuid, jsonb) from public, anon, authenticated, service_role;

grant execute on function private.assert_chat_scope(uuid, jsonb) to service_role;
grant execute on function private.chat_turn_replay(private.ai_chat_idempotency) to service_role;
grant execute on function private.chat_turn_claim(uuid, uuid, jsonb) to service_role;
grant execute on function private.chat_turn_store(uuid, uuid, uuid, text, text, jsonb) to service_role;
grant execute on function private.chat_turn_finish_key(uuid, uuid, jsonb, jsonb, jsonb) to service_role;
grant execute on function private.chat_idempotency_cleanup() to service_role;
grant execute on function public.chat_turn(uuid, uuid, uuid, text, text, jsonb, jsonb) to service_role;
grant execute on function public.chat_turn_complete(uuid, uuid, uuid, text, text, text, integer, text, boolean, jsonb, jsonb, jsonb, jsonb, jsonb) to service_role;
grant execute on function public.chat_turn_release(uuid, uuid, jsonb) to service_role;
