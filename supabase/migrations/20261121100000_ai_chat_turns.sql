/*
 * The ai-chat Edge Function's round trips, one RPC per step (service role only):
 *
 *   chat_history        membership + ownership check, recent messages of a conversation
 *   chat_turn           membership, conversation (created when absent), the user message and
 *                       the cache lookup (with the single-flight lease) in ONE round trip;
 *                       on a hit the assistant message is stored too
 *   chat_turn_complete  the assistant message and, when the answer is cacheable, the cache
 *                       entry (cache_store, which also releases the lease) in one round trip
 *   cache_poll          what a caller waiting on another's lease polls: the fresh entry
 *                       (counted as a hit), the lease when it became free, or 'pending'
 *
 * The functions act for a user the Edge Function has already authenticated (p_user_id comes
 * from a verified JWT): they re-check membership and ownership themselves so a bug in a
 * function cannot cross companies or users. Errors: 42501 not a member (→ 403), P0002
 * conversation not found for this user and company (→ 404), 22023 bad argument (→ 400).
 */

-- ---------------------------------------------------------------------------------------
-- Functions
-- ---------------------------------------------------------------------------------------

/*
 * private.assert_company_member(p_user_id uuid, p_company_id uuid) -> void
 * Raises 42501 unless p_user_id belongs to p_company_id.
 */
create or replace function private.assert_company_member(p_user_id uuid, p_company_id uuid)
returns void
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  if p_user_id is null or p_company_id is null or not exists (
    select 1 from public.company_members m
    where m.company_id = p_company_id and m.user_id = p_user_id
  ) then
    raise exception 'not a member of company %', p_company_id using errcode = '42501';
  end if;
end;
$$;

/*
 * private.assert_own_conversation(p_user_id uuid, p_company_id uuid, p_conversation_id uuid)
 *   -> public.ai_conversations
 * The conversation row, or P0002 when it does not exist for this user in this company
 * (another user's or company's conversation is indistinguishable from a missing one).
 */
create or replace function private.assert_own_conversation(p_user_id uuid, p_company_id uuid, p_conversation_id uuid)
returns public.ai_conversations
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_conversation public.ai_conversations;
begin
  select * into v_conversation from public.ai_conversations c
  where c.id = p_conversation_id and c.user_id = p_user_id and c.company_id = p_company_id;
  if not found then
    raise exception 'conversation % not found', p_conversation_id using errcode = 'P0002';
  end if;
  return v_conversation;
end;
$$;

/*
 * public.chat_history(p_user_id uuid, p_company_id uuid, p_conversation_id uuid,
 *                     p_limit integer default 50) -> jsonb
 * { conversation: {id, context_type, title, message_count},
 *   messages: [{role, content}] (the last p_limit messages, oldest first) }
 * Errors 42501 / P0002 as above. Service role only.
 */
create or replace function public.chat_history(
  p_user_id uuid,
  p_company_id uuid,
  p_conversation_id uuid,
  p_limit integer default 50
)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_conversation public.ai_conversations;
begin
  perform private.assert_company_member(p_user_id, p_company_id);
  v_conversation := private.assert_own_conversation(p_user_id, p_company_id, p_conversation_id);
  return jsonb_build_object(
    'conversation', jsonb_build_object(
      'id', v_conversation.id,
      'context_type', v_conversation.context_type,
      'title', v_conversation.title,
      'message_count', v_conversation.message_count
    ),
    'messages', coalesce((
      select jsonb_agg(jsonb_build_object('role', t.role, 'content', t.content) order by t.created_at, t.seq)
      from (
        select m.role, m.content, m.created_at, m.seq
        from public.ai_messages m
        where m.conversation_id = p_conversation_id
        order by m.created_at desc, m.seq desc
        limit greatest(coalesce(p_limit, 50), 0)
      ) t
    ), '[]'::jsonb)
  );
end;
$$;

/*
 * public.chat_turn(p_user_id uuid, p_company_id uuid, p_conversation_id uuid,
 *                  p_context_type text, p_message text, p_cache jsonb default null) -> jsonb
 * Starts a turn: checks membership, creates the conversation when p_conversation_id is null
 * (title = the message's first 80 characters) or checks ownership, stores the user message.
 * When p_cache is given ({company_id (scope, null = global), cache_key, cache_type,
 * max_age_seconds?, lease_owner?, lease_ms?}) it also runs cache_lookup; on a hit it stores
 * the assistant message (from_cache = true, tokens_used = 0: nothing was spent) from
 * cached_result.message.content.
 * Returns { conversation_id, created, user_message_id, lookup: <cache_lookup result> | null,
 *           assistant_message_id: uuid | null }.
 * Service role only.
 */
create or replace function public.chat_turn(
  p_user_id uuid,
  p_company_id uuid,
  p_conversation_id uuid,
  p_context_type text,
  p_message text,
  p_cache jsonb default null
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_conversation_id uuid := p_conversation_id;
  v_created boolean := false;
  v_user_message_id uuid;
  v_assistant_message_id uuid;
  v_lookup jsonb;
begin
  perform private.assert_company_member(p_user_id, p_company_id);
  if p_message is null or pg_catalog.length(p_message) = 0 then
    raise exception 'chat_turn: p_message is required' using errcode = '22023';
  end if;

  if v_conversation_id is null then
    insert into public.ai_conversations (company_id, user_id, title, context_type)
    values (p_company_id, p_user_id, pg_catalog.left(p_message, 80), coalesce(p_context_type, 'general'))
    returning id into v_conversation_id;
    v_created := true;
  else
    perform private.assert_own_conversation(p_user_id, p_company_id, v_conversation_id);
  end if;

  insert into public.ai_messages (conversation_id, role, content)
  values (v_conversation_id, 'user', p_message)
  returning id into v_user_message_id;

  if p_cache is not null then
    v_lookup := public.cache_lookup(
      (p_cache ->> 'company_id')::uuid,
      p_cache ->> 'cache_key',
      p_cache ->> 'cache_type',
      (p_cache ->> 'max_age_seconds')::integer,
      p_cache ->> 'lease_owner',
      coalesce((p_cache ->> 'lease_ms')::integer, 30000)
    );
    -- cache_lookup commits asynchronously (statistics may be lost in a crash), but this
    -- transaction also holds the user's messages, which an acknowledged answer must keep.
    perform pg_catalog.set_config('synchronous_commit', 'on', true);
    if v_lookup ->> 'status' = 'hit' then
      insert into public.ai_messages (conversation_id, role, content, metadata, tokens_used, model, from_cache)
      values (
        v_conversation_id, 'assistant',
        coalesce(v_lookup -> 'cached_result' -> 'message' ->> 'content', ''),
        jsonb_build_object('cache', 'HIT', 'cache_id', v_lookup -> 'id', 'age_seconds', v_lookup -> 'age_seconds',
                           'tokens_saved', v_lookup -> 'total_tokens'),
        0, v_lookup ->> 'model', true
      )
      returning id into v_assistant_message_id;
    end if;
  end if;

  return jsonb_build_object(
    'conversation_id', v_conversation_id,
    'created', v_created,
    'user_message_id', v_user_message_id,
    'lookup', v_lookup,
    'assistant_message_id', v_assistant_message_id
  );
end;
$$;

/*
 * public.chat_turn_complete(p_user_id uuid, p_company_id uuid, p_conversation_id uuid,
 *                           p_content text, p_tokens_used integer, p_model text,
 *                           p_from_cache boolean, p_metadata jsonb default '{}',
 *                           p_store jsonb default null) -> jsonb
 * Stores the assistant message of a turn; with p_store ({company_id, cache_key, cache_type,
 * model, request, result, prompt_tokens, completion_tokens, cost_usd, ttl_seconds,
 * key_version, lease_owner}) also stores the cache entry through cache_store in the same
 * transaction, so an acknowledged answer is never half-saved.
 * Returns { assistant_message_id, cache: <cache_store result> | null }. Service role only.
 */
create or replace function public.chat_turn_complete(
  p_user_id uuid,
  p_company_id uuid,
  p_conversation_id uuid,
  p_content text,
  p_tokens_used integer,
  p_model text,
  p_from_cache boolean,
  p_metadata jsonb default '{}'::jsonb,
  p_store jsonb default null
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_message_id uuid;
  v_cache jsonb;
begin
  perform private.assert_own_conversation(p_user_id, p_company_id, p_conversation_id);

  insert into public.ai_messages (conversation_id, role, content, metadata, tokens_used, model, from_cache)
  values (p_conversation_id, 'assistant', coalesce(p_content, ''), coalesce(p_metadata, '{}'::jsonb),
          p_tokens_used, p_model, coalesce(p_from_cache, false))
  returning id into v_message_id;

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

  return jsonb_build_object('assistant_message_id', v_message_id, 'cache', v_cache);
end;
$$;

/*
 * public.cache_poll(p_company_id uuid, p_cache_key text, p_cache_type text,
 *                   p_max_age_seconds integer default null, p_lease_owner text,
 *                   p_lease_ms integer default 30000) -> jsonb
 * For a caller whose cache_lookup found the lease 'held':
 *   { status: 'hit', <entry document> }  the leader stored the answer; counted as a hit
 *                                         (the request was served without a model call);
 *   { status: 'miss', lease: 'acquired' } the lease was released or expired without an
 *                                         entry: the caller is now the leader;
 *   { status: 'pending', lease_expires_at } keep polling.
 * cache_lookup counts nothing for a caller that found the lease held; this function counts
 * it once: a hit when served, a miss when it takes the lease over. Service role only.
 */
create or replace function public.cache_poll(
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
  v_hit jsonb;
  v_now timestamptz := now();
  v_expires_at timestamptz;
begin
  if p_lease_owner is null or p_lease_ms is null or p_lease_ms < 1 or p_lease_ms > 600000 then
    raise exception 'cache_poll: p_lease_owner and p_lease_ms (1 .. 600000) are required' using errcode = '22023';
  end if;
  perform pg_catalog.set_config('synchronous_commit', 'off', true);

  v_hit := public.cache_peek(p_company_id, p_cache_key, p_max_age_seconds);
  if v_hit is not null then
    insert into private.ai_cache_events (company_id, cache_type, cache_id, kind, tokens, cost_usd)
    values (p_company_id, v_hit ->> 'cache_type', (v_hit ->> 'id')::bigint, 'hit',
            (v_hit ->> 'total_tokens')::integer, (v_hit ->> 'cost_usd')::numeric);
    return v_hit;
  end if;

  v_expires_at := private.cache_take_lease(p_company_id, p_cache_key, p_cache_type, p_lease_owner, p_lease_ms, v_now);
  if v_expires_at is not null then
    -- The leader stores its answer and drops its lease in one commit, which may have landed
    -- between the peek above and this upsert: look again before calling ourselves the leader.
    v_hit := public.cache_peek(p_company_id, p_cache_key, p_max_age_seconds);
    if v_hit is not null then
      if p_company_id is null then
        delete from private.ai_cache_leases l
        where l.company_id is null and l.cache_key = p_cache_key and l.owner = p_lease_owner;
      else
        delete from private.ai_cache_leases l
        where l.company_id = p_company_id and l.cache_key = p_cache_key and l.owner = p_lease_owner;
      end if;
      insert into private.ai_cache_events (company_id, cache_type, cache_id, kind, tokens, cost_usd)
      values (p_company_id, v_hit ->> 'cache_type', (v_hit ->> 'id')::bigint, 'hit',
              (v_hit ->> 'total_tokens')::integer, (v_hit ->> 'cost_usd')::numeric);
      return v_hit;
    end if;
    -- The leader gave up without an answer: this request becomes the miss it was not counted as.
    insert into private.ai_cache_events (company_id, cache_type, kind)
    values (p_company_id, p_cache_type, 'miss');
    return jsonb_build_object('status', 'miss', 'lease', 'acquired', 'lease_expires_at', v_expires_at);
  end if;

  if p_company_id is null then
    select l.expires_at into v_expires_at from private.ai_cache_leases l
    where l.company_id is null and l.cache_key = p_cache_key;
  else
    select l.expires_at into v_expires_at from private.ai_cache_leases l
    where l.company_id = p_company_id and l.cache_key = p_cache_key;
  end if;
  return jsonb_build_object('status', 'pending', 'lease_expires_at', v_expires_at);
end;
$$;

-- ---------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------
revoke all on function private.assert_company_member(uuid, uuid) from public, anon, authenticated;
revoke all on function private.assert_own_conversation(uuid, uuid, uuid) from public, anon, authenticated;
grant execute on function private.assert_company_member(uuid, uuid) to service_role;
grant execute on function private.assert_own_conversation(uuid, uuid, uuid) to service_role;

revoke all on function public.chat_history(uuid, uuid, uuid, integer) from public, anon, authenticated;
revoke all on function public.chat_turn(uuid, uuid, uuid, text, text, jsonb) from public, anon, authenticated;
revoke all on function public.chat_turn_complete(uuid, uuid, uuid, text, integer, text, boolean, jsonb, jsonb) from public, anon, authenticated;
revoke all on function public.cache_poll(uuid, text, text, integer, text, integer) from public, anon, authenticated;
grant execute on function public.chat_history(uuid, uuid, uuid, integer) to service_role;
grant execute on function public.chat_turn(uuid, uuid, uuid, text, text, jsonb) to service_role;
grant execute on function public.chat_turn_complete(uuid, uuid, uuid, text, integer, text, boolean, jsonb, jsonb) to service_role;
grant execute on function public.cache_poll(uuid, text, text, integer, text, integer) to service_role;
