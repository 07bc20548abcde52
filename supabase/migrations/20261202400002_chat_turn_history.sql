/*
 * A follow-up ai-chat turn in one round trip: chat_turn reads the conversation's history
 * itself and derives the turn's cache key from it.
 *
 * Before, ai-chat read the history (chat_history) and then called chat_turn with a key that
 * covered it: two round trips in a row on every follow-up hit. Now the function sends a
 * request key (everything but the history: scope, model, sampling, the system prompts'
 * versions, the new question) and chat_turn computes the turn's key as
 *
 *   sha256_hex(request_key || '\n' || context_type || '\n' || window)
 *
 * where context_type is the conversation's (or, for a new conversation, the one given) and
 * window is the last p_history_limit user and assistant messages, oldest first, each written
 * as role || ':' || length(content) || ':' || content and joined with '\n' (empty for a new
 * conversation). The length prefix makes the encoding unambiguous: two different histories
 * never give the same window text. Two conversations with the same context, the same
 * history window and the same new question share an entry; anything else cannot.
 *
 * The history messages are returned (only when the turn was not answered from the cache) so
 * that a miss calls the model with exactly the window the key covers.
 */

-- ---------------------------------------------------------------------------------------
-- Functions
-- ---------------------------------------------------------------------------------------
drop function if exists public.chat_turn(uuid, uuid, uuid, text, text, jsonb, jsonb);

/*
 * private.chat_window(p_conversation_id uuid, p_limit integer) -> (messages jsonb, encoded text)
 * The last p_limit user and assistant messages of a conversation, oldest first: as
 * [{role, content}] and as the key's window text (see the header). No conversation, or no
 * messages: '[]' and ''.
 */
create or replace function private.chat_window(p_conversation_id uuid, p_limit integer)
returns table (messages jsonb, encoded text)
language sql
stable
security invoker
set search_path = ''
as $$
  select
    coalesce(jsonb_agg(jsonb_build_object('role', t.role, 'content', t.content) order by t.created_at, t.seq),
             '[]'::jsonb),
    coalesce(string_agg(t.role || ':' || pg_catalog.length(t.content) || ':' || t.content, E'\n'
                        order by t.created_at, t.seq), '')
  from (
    select m.role, m.content, m.created_at, m.seq
    from public.ai_messages m
    where m.conversation_id = p_conversation_id and m.role in ('user', 'assistant')
    order by m.created_at desc, m.seq desc
    limit greatest(coalesce(p_limit, 50), 0)
  ) t;
$$;

/*
 * private.chat_turn_key(p_request_key text, p_context_type text, p_window text) -> text
 * The cache key of a chat turn: sha256, hex, of the request key, the context type and the
 * history window (see the header). The one definition of how history enters a chat key.
 */
create or replace function private.chat_turn_key(p_request_key text, p_context_type text, p_window text)
returns text
language sql
immutable
security invoker
set search_path = ''
as $$
  select pg_catalog.encode(
    pg_catalog.sha256(pg_catalog.convert_to(p_request_key || E'\n' || p_context_type || E'\n' || p_window, 'UTF8')),
    'hex');
$$;

/*
 * public.chat_turn(p_user_id uuid, p_company_id uuid, p_conversation_id uuid,
 *                  p_context_type text, p_message text, p_cache jsonb default null,
 *                  p_idempotency jsonb default null, p_request_key text default null,
 *                  p_history_limit integer default 50) -> jsonb
 * Starts a turn. Checks membership, the conversation's owner (when p_conversation_id is
 * given) and that p_cache's scope is p_company_id. With p_idempotency ({key, request_hash,
 * owner, claim_ms}) it first claims the key (see private.chat_turn_claim); a replay,
 * in-progress or mismatch answer returns before anything else happens.
 * The turn's context type is the conversation's (p_context_type, default 'general', for a
 * new one). With p_request_key, the turn's cache key is chat_turn_key(p_request_key,
 * context type, the last p_history_limit messages) and replaces p_cache.cache_key; without
 * it, p_cache.cache_key is used as given.
 * With p_cache ({company_id, cache_key, cache_type, max_age_seconds?, lease_owner?,
 * lease_ms?}) it runs cache_lookup with that key; on a hit it stores the whole turn
 * (conversation when new, user message, assistant message with from_cache = true and
 * tokens_used = 0) and completes the key. On a miss it writes NO conversation and NO message;
 * when p_cache.lease_owner is null (only-if-cached: the caller will not call the model) it
 * also gives the key back.
 * Returns { conversation_id (new conversations: the id it will be stored under),
 *           created, user_message_id, assistant_message_id (null unless stored),
 *           context_type, cache_key (the turn's key: for cache_poll, the store, the lease),
 *           history: [{role, content}] oldest first | null (null when answered from the cache),
 *           lookup: <cache_lookup result> | null,
 *           idempotency: null | 'claimed' | 'replay' | 'in_progress' | 'mismatch',
 *           replay: <stored turn> | null }.
 * Errors: 42501 not a member / scope mismatch, P0002 conversation not found, 22023 bad argument.
 * Service role only (p_user_id from a verified JWT).
 */
create or replace function public.chat_turn(
  p_user_id uuid,
  p_company_id uuid,
  p_conversation_id uuid,
  p_context_type text,
  p_message text,
  p_cache jsonb default null,
  p_idempotency jsonb default null,
  p_request_key text default null,
  p_history_limit integer default 50
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_conversation_id uuid := coalesce(p_conversation_id, pg_catalog.gen_random_uuid());
  v_context_type text := coalesce(p_context_type, 'general');
  v_history jsonb := '[]'::jsonb;
  v_window text := '';
  v_key text := p_cache ->> 'cache_key';
  v_claim jsonb;
  v_lookup jsonb;
  v_stored jsonb;
begin
  perform private.assert_company_member(p_user_id, p_company_id);
  perform private.assert_chat_scope(p_company_id, p_cache);
  if p_message is null or pg_catalog.length(p_message) = 0 then
    raise exception 'chat_turn: p_message is required' using errcode = '22023';
  end if;
  if p_history_limit < 0 then
    raise exception 'chat_turn: p_history_limit must be >= 0' using errcode = '22023';
  end if;
  if p_conversation_id is not null then
    v_context_type := (private.assert_own_conversation(p_user_id, p_company_id, p_conversation_id)).context_type;
  end if;

  if p_idempotency is not null then
    v_claim := private.chat_turn_claim(p_user_id, p_company_id, p_idempotency);
    if v_claim ->> 'state' <> 'claimed' then
      return jsonb_build_object(
        'conversation_id', coalesce(v_claim -> 'replay' ->> 'conversation_id', p_conversation_id::text),
        'created', false, 'user_message_id', null, 'assistant_message_id', null,
        'context_type', v_context_type, 'cache_key', null, 'history', null, 'lookup', null,
        'idempotency', v_claim ->> 'state', 'replay', v_claim -> 'replay'
      );
    end if;
  end if;

  if p_conversation_id is not null then
    select w.messages, w.encoded into v_history, v_window
    from private.chat_window(p_conversation_id, p_history_limit) w;
  end if;
  if p_request_key is not null then
    v_key := private.chat_turn_key(p_request_key, v_context_type, v_window);
  end if;

  if p_cache is not null then
    v_lookup := public.cache_lookup(
      (p_cache ->> 'company_id')::uuid,
      v_key,
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
        p_user_id, p_company_id, v_conversation_id, v_context_type, p_message,
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
    'context_type', v_context_type,
    'cache_key', v_key,
    'history', case when v_stored is null then v_history end,
    'lookup', v_lookup,
    'idempotency', case when p_idempotency is not null then 'claimed' end,
    'replay', null
  );
end;
$$;

-- ---------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------
revoke all on function private.chat_window(uuid, integer) from public, anon, authenticated, service_role;
revoke all on function private.chat_turn_key(text, text, text) from public, anon, authenticated, service_role;
revoke all on function public.chat_turn(uuid, uuid, uuid, text, text, jsonb, jsonb, text, integer) from public, anon, authenticated, service_role;

grant execute on function private.chat_window(uuid, integer) to service_role;
grant execute on function private.chat_turn_key(text, text, text) to service_role;
grant execute on function public.chat_turn(uuid, uuid, uuid, text, text, jsonb, jsonb, text, integer) to service_role;
