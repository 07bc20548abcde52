/*
 * Conversation RPCs.
 *
 * get_conversation_with_messages: SECURITY INVOKER, so RLS alone decides what is visible.
 * get_conversation_stats: numbers only. A member gets the figures of their own
 * conversations in the company; owners/admins (and the service role) get company-wide
 * aggregates, which requires reading other users' rows: that part is a SECURITY DEFINER
 * body in `private` that checks the caller's role first and never returns content.
 */

-- ---------------------------------------------------------------------------------------
-- Functions
-- ---------------------------------------------------------------------------------------

/*
 * public.get_conversation_with_messages(p_conversation_id uuid) -> jsonb | null
 * { conversation: { id, company_id, user_id, title, context_type, message_count,
 *                   is_archived, created_at, updated_at, last_message_at },
 *   messages: [{ id, conversation_id, seq, role, content, metadata, tokens_used, model,
 *                from_cache, created_at }] ordered by (created_at, seq) }
 * null when the conversation does not exist or is not visible to the caller (RLS).
 * Callers: authenticated (own conversations), service role (any).
 */
create or replace function public.get_conversation_with_messages(p_conversation_id uuid)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select jsonb_build_object(
    'conversation', to_jsonb(c),
    'messages', coalesce((
      select jsonb_agg(to_jsonb(m) order by m.created_at, m.seq)
      from public.ai_messages m
      where m.conversation_id = c.id
    ), '[]'::jsonb)
  )
  from public.ai_conversations c
  where c.id = p_conversation_id;
$$;

/*
 * private.conversation_stats(p_company_id uuid, p_user_id uuid) -> jsonb
 * Aggregates over the company's conversations, restricted to p_user_id's when not null:
 *   { scope: 'company'|'user', company_id, users, conversations, active, archived,
 *     messages, user_messages, assistant_messages, cached_answers, cached_answer_share,
 *     tokens_used, tokens_from_cache, last_message_at,
 *     by_context_type: [{ context_type, conversations, archived, messages, cached_answers,
 *                         tokens_used }] (ordered by context_type) }
 * cached_answer_share = cached assistant messages / assistant messages (4 decimals, 0 when
 * none). No authorization check: service role only; end users go through
 * private.conversation_stats_for_caller().
 */
create or replace function private.conversation_stats(p_company_id uuid, p_user_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
set plan_cache_mode = force_custom_plan
as $$
declare
  v_result jsonb;
begin
  with conv as (
    select c.id, c.user_id, c.context_type, c.is_archived, c.last_message_at
    from public.ai_conversations c
    where c.company_id = p_company_id
      and (p_user_id is null or c.user_id = p_user_id)
  ),
  per_conv as (
    select v.id, v.user_id, v.context_type, v.is_archived, v.last_message_at,
           count(m.id) as messages,
           count(m.id) filter (where m.role = 'user') as user_messages,
           count(m.id) filter (where m.role = 'assistant') as assistant_messages,
           count(m.id) filter (where m.role = 'assistant' and m.from_cache) as cached_answers,
           coalesce(sum(m.tokens_used), 0) as tokens_used,
           coalesce(sum(m.tokens_used) filter (where m.from_cache), 0) as tokens_from_cache
    from conv v
    left join public.ai_messages m on m.conversation_id = v.id
    group by v.id, v.user_id, v.context_type, v.is_archived, v.last_message_at
  ),
  totals as (
    select count(distinct p.user_id) as users,
           count(*) as conversations,
           count(*) filter (where not p.is_archived) as active,
           count(*) filter (where p.is_archived) as archived,
           coalesce(sum(p.messages), 0)::bigint as messages,
           coalesce(sum(p.user_messages), 0)::bigint as user_messages,
           coalesce(sum(p.assistant_messages), 0)::bigint as assistant_messages,
           coalesce(sum(p.cached_answers), 0)::bigint as cached_answers,
           coalesce(sum(p.tokens_used), 0)::bigint as tokens_used,
           coalesce(sum(p.tokens_from_cache), 0)::bigint as tokens_from_cache,
           max(p.last_message_at) as last_message_at
    from per_conv p
  )
  select jsonb_build_object(
           'scope', case when p_user_id is null then 'company' else 'user' end,
           'company_id', p_company_id,
           'users', t.users,
           'conversations', t.conversations,
           'active', t.active,
           'archived', t.archived,
           'messages', t.messages,
           'user_messages', t.user_messages,
           'assistant_messages', t.assistant_messages,
           'cached_answers', t.cached_answers,
           'cached_answer_share', case when t.assistant_messages > 0
                                       then round(t.cached_answers::numeric / t.assistant_messages, 4)
                                       else 0 end,
           'tokens_used', t.tokens_used,
           'tokens_from_cache', t.tokens_from_cache,
           'last_message_at', t.last_message_at,
           'by_context_type', coalesce((
             select jsonb_agg(jsonb_build_object(
                      'context_type', b.context_type,
                      'conversations', b.conversations,
                      'archived', b.archived,
                      'messages', b.messages,
                      'cached_answers', b.cached_answers,
                      'tokens_used', b.tokens_used
                    ) order by b.context_type)
             from (
               select p.context_type,
                      count(*) as conversations,
                      count(*) filter (where p.is_archived) as archived,
                      sum(p.messages)::bigint as messages,
                      sum(p.cached_answers)::bigint as cached_answers,
                      sum(p.tokens_used)::bigint as tokens_used
               from per_conv p
               group by p.context_type
             ) b
           ), '[]'::jsonb)
         )
  into v_result
  from totals t;

  return v_result;
end;
$$;

/*
 * private.conversation_stats_for_caller(p_company_id uuid) -> jsonb
 * get_conversation_stats() for end users: company-wide aggregates for owners/admins of
 * p_company_id, the caller's own figures for plain members; error 42501 for non-members
 * and anonymous callers.
 */
create or replace function private.conversation_stats_for_caller(p_company_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_uid uuid := auth.uid();
begin
  if v_uid is null or p_company_id is null then
    raise exception 'get_conversation_stats: a signed-in user and p_company_id are required'
      using errcode = '42501';
  end if;
  if private.has_company_role(p_company_id, array['owner', 'admin']) then
    return private.conversation_stats(p_company_id, null);
  end if;
  if private.is_company_member(p_company_id) then
    return private.conversation_stats(p_company_id, v_uid);
  end if;
  raise exception 'get_conversation_stats: not a member of company %', p_company_id
    using errcode = '42501';
end;
$$;

/*
 * public.get_conversation_stats(p_company_id uuid) -> jsonb
 * Conversation statistics of a company (shape: private.conversation_stats). Members: their
 * own conversations (scope 'user'); owners/admins and the service role: company-wide
 * (scope 'company'), numbers only. Non-members: error 42501.
 * SECURITY INVOKER: the caller's privileges pick the path.
 */
create or replace function public.get_conversation_stats(p_company_id uuid)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  if pg_catalog.has_function_privilege('private.conversation_stats(uuid, uuid)', 'execute') then
    if p_company_id is null then
      raise exception 'get_conversation_stats: p_company_id is required' using errcode = '22023';
    end if;
    return private.conversation_stats(p_company_id, null);
  end if;
  return private.conversation_stats_for_caller(p_company_id);
end;
$$;

-- ---------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------
revoke all on function public.get_conversation_with_messages(uuid) from public, anon, authenticated, service_role;
revoke all on function private.conversation_stats(uuid, uuid) from public, anon, authenticated, service_role;
revoke all on function private.conversation_stats_for_caller(uuid) from public, anon, authenticated, service_role;
revoke all on function public.get_conversation_stats(uuid) from public, anon, authenticated, service_role;

grant execute on function public.get_conversation_with_messages(uuid) to authenticated, service_role;
grant execute on function private.conversation_stats(uuid, uuid) to service_role;
grant execute on function private.conversation_stats_for_caller(uuid) to authenticated;
grant execute on function public.get_conversation_stats(uuid) to authenticated, service_role;
