-- Conversation privacy: owners/admins read cache metadata, never content; only the service
-- role reads prompts and answers. Column by column, as a member, an admin of the same company,
-- an admin of another company and the service role; then every other path an authenticated
-- caller has (stats RPCs, conversations, messages, admin RPCs).
begin;
select plan(58);

\set company_a '''a1500000-0000-4000-8000-00000000000a'''
\set company_b '''b1500000-0000-4000-8000-00000000000b'''

select tests.create_supabase_user('p_member_a') as member_a \gset
select tests.create_supabase_user('p_admin_a') as admin_a \gset
select tests.create_supabase_user('p_owner_a') as owner_a \gset
select tests.create_supabase_user('p_admin_b') as admin_b \gset
insert into public.company_members (company_id, user_id, role) values
  (:company_a, :'member_a', 'member'),
  (:company_a, :'admin_a', 'admin'),
  (:company_a, :'owner_a', 'owner'),
  (:company_b, :'admin_b', 'admin');

-- A member's entry and conversation, both carrying a secret only the service role may read.
insert into public.ai_cache (company_id, cache_key, cache_type, model, request, cached_result,
                             prompt_tokens, completion_tokens, cost_usd, expires_at) values
  (:company_a, repeat('a', 64), 'chat', 'gpt-4o-mini',
   '{"prompt": "SECRET-QUESTION-015"}', '{"message": {"role": "assistant", "content": "SECRET-ANSWER-015"}}',
   40, 12, 0.0000132, now() + interval '1 hour');
insert into private.ai_cache_events (company_id, cache_type, cache_id, kind, tokens, cost_usd)
select :company_a, 'chat', c.id, 'hit', 52, 0.0000132 from public.ai_cache c where c.company_id = :company_a and c.cache_key = repeat('a', 64);
insert into public.ai_conversations (id, company_id, user_id, title, context_type) values
  ('c1500000-0000-4000-8000-000000000001', :company_a, :'member_a', 'SECRET-QUESTION-015', 'general');
insert into public.ai_messages (conversation_id, role, content) values
  ('c1500000-0000-4000-8000-000000000001', 'user', 'SECRET-QUESTION-015'),
  ('c1500000-0000-4000-8000-000000000001', 'assistant', 'SECRET-ANSWER-015');

-- The grants, column by column -----------------------------------------------------------------------
select column_privs_are('public', 'ai_cache', c, 'authenticated', array['SELECT'],
         format('authenticated may read the metadata column ai_cache.%s', c))
from unnest(array['id', 'company_id', 'cache_type', 'model', 'key_version', 'prompt_tokens', 'completion_tokens',
                  'total_tokens', 'cost_usd', 'hit_count', 'last_hit_at', 'created_at', 'expires_at']) c;
select column_privs_are('public', 'ai_cache', c, 'authenticated', array[]::text[],
         format('authenticated has no privilege on the content column ai_cache.%s', c))
from unnest(array['request', 'cached_result', 'cache_key']) c;
select column_privs_are('public', 'ai_cache', c, 'anon', array[]::text[], format('anon has no privilege on ai_cache.%s', c))
from unnest(array['request', 'cached_result', 'cache_key', 'cost_usd']) c;

-- Admin of A: metadata yes, content no -----------------------------------------------------------------
select tests.authenticate_as('p_admin_a');
select results_eq(
  $$select cache_type, model, prompt_tokens, completion_tokens, total_tokens, cost_usd, hit_count
    from public.ai_cache where company_id = 'a1500000-0000-4000-8000-00000000000a'$$,
  $$values ('chat'::text, 'gpt-4o-mini'::text, 40, 12, 52, 0.0000132::numeric, 0::bigint)$$,
  'an admin reads type, model, tokens, cost and hits of a member''s entry');
select throws_ok($$select request from public.ai_cache$$, '42501', null, 'an admin cannot read request');
select throws_ok($$select cached_result from public.ai_cache$$, '42501', null, 'an admin cannot read cached_result');
select throws_ok($$select cache_key from public.ai_cache$$, '42501', null, 'an admin cannot read cache_key (a hash of the prompt)');
select throws_ok($$select * from public.ai_cache$$, '42501', null, 'select * is refused rather than leaking content');
select throws_ok($$select md5(request::text) from public.ai_cache$$, '42501', null, 'nothing derived from request either');
select throws_ok($$select count(*) from public.ai_cache where cached_result::text like '%SECRET%'$$, '42501', null,
  'content cannot be probed through a filter');
select throws_ok($$select count(*) from public.ai_cache where cache_key = repeat('a', 64)$$, '42501', null,
  'a guessed key cannot be confirmed through a filter');
select throws_ok($$select to_jsonb(c) from public.ai_cache c$$, '42501', null, 'the whole row as JSON is refused');
select is(position('SECRET' in public.get_cache_stats(:company_a)::text), 0, 'get_cache_stats carries no content');
select is((public.get_cache_stats(:company_a) ->> 'hits')::int, 1, 'but its numbers are there');
select is(position('SECRET' in public.get_conversation_stats(:company_a)::text), 0, 'get_conversation_stats carries no content');
select is((public.get_conversation_stats(:company_a) ->> 'messages')::int, 2, 'but counts the member''s messages');
select is((select count(*)::int from public.ai_messages), 0, 'an admin reads no member message');
select is((select count(*)::int from public.ai_conversations), 0, 'nor a member''s conversation (whose title is text)');
select is(public.get_conversation_with_messages('c1500000-0000-4000-8000-000000000001'), null,
  'get_conversation_with_messages returns nothing of a member''s conversation to an admin');
select is((select count(*)::int from public.ai_cache_stats_daily where company_id = :company_a), 0,
  'daily stats (numbers only) are readable, none folded yet');
select throws_ok(format($$select public.get_top_cache_entries(10, %L)$$, :company_a), '42501', null,
  'an admin cannot list top entries with their prompts');
select throws_ok($$select public.get_cache_stats_by_company()$$, '42501', null, 'nor the per-company statistics');
select throws_ok($$select public.get_cache_metrics()$$, '42501', null, 'nor the metrics document');
select throws_ok(format($$select public.cache_peek(%L, repeat('a', 64))$$, :company_a), '42501', null,
  'nor peek at an entry');
select throws_ok(format($$select public.chat_history(%L, %L, 'c1500000-0000-4000-8000-000000000001')$$, :'member_a', :company_a),
  '42501', null, 'nor read a member''s history through chat_history');
select throws_ok($$select count(*) from private.ai_chat_idempotency$$, '42501', null, 'nor the idempotency keys');

-- Owner of A: same as an admin -------------------------------------------------------------------------
reset role;
select tests.authenticate_as('p_owner_a');
select is((select count(*)::int from public.ai_cache where company_id = :company_a), 1, 'an owner counts the company''s entries');
select throws_ok($$select request from public.ai_cache$$, '42501', null, 'an owner cannot read request');
select throws_ok($$select cached_result from public.ai_cache$$, '42501', null, 'an owner cannot read cached_result');
select is((select count(*)::int from public.ai_messages), 0, 'an owner reads no member message');

-- The member who asked: their messages yes, the cache row no -------------------------------------------
reset role;
select tests.authenticate_as('p_member_a');
select is((select count(*)::int from public.ai_cache), 0, 'a plain member reads no cache row');
select throws_ok($$select cached_result from public.ai_cache$$, '42501', null, 'nor its content');
select is((select content from public.ai_messages where role = 'assistant'), 'SECRET-ANSWER-015',
  'the member reads their own conversation');

-- Admin of another company -----------------------------------------------------------------------------
reset role;
select tests.authenticate_as('p_admin_b');
select is((select count(*)::int from public.ai_cache where company_id = :company_a), 0, 'an admin of B sees no row of A');
select throws_ok($$select request from public.ai_cache$$, '42501', null, 'an admin of B cannot read request');
select throws_ok($$select cached_result from public.ai_cache$$, '42501', null, 'an admin of B cannot read cached_result');
select throws_ok(format($$select public.get_cache_stats(%L)$$, :company_a), '42501', null, 'nor A''s statistics');
select is((select count(*)::int from public.ai_messages), 0, 'an admin of B reads no message');

-- Everything an authenticated caller may execute is on this list (and audited above) -------------------
reset role;
select set_eq($$
  select p.oid::regprocedure::text from pg_proc p
  where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)
    and has_function_privilege('authenticated', p.oid, 'execute')
$$, $$values ('get_cache_stats(uuid)'), ('get_conversation_stats(uuid)'), ('get_conversation_with_messages(uuid)'),
             ('private.cache_stats_for_admin(uuid)'), ('private.conversation_stats_for_caller(uuid)'),
             ('private.is_company_member(uuid)'), ('private.has_company_role(uuid,text[])'),
             -- the dashboard (numbers and company names), the owners' cache purge, the cache policies
             ('get_dashboard_companies()'), ('get_cache_dashboard(uuid,integer,integer)'),
             ('private.cache_dashboard(uuid,integer,integer)'), ('private.company_name(uuid)'),
             ('purge_company_cache(uuid,text,text)'), ('private.purge_company_cache(uuid,text,text)'),
             ('set_cache_policy(uuid,text,integer,text,boolean)'), ('delete_cache_policy(uuid,text)'),
             ('get_cache_policies(uuid)')$$,
  'authenticated executes only the numbers-only stats and dashboard RPCs, the RLS-bound conversation reader, the purge and policy RPCs and the membership helpers');

-- The service role reads content -----------------------------------------------------------------------
select tests.authenticate_as_service_role();
select results_eq($$select request ->> 'prompt', cached_result -> 'message' ->> 'content' from public.ai_cache
                    where company_id = 'a1500000-0000-4000-8000-00000000000a'$$,
  $$values ('SECRET-QUESTION-015'::text, 'SECRET-ANSWER-015'::text)$$, 'the service role reads prompt and answer');
select ok(position('SECRET-QUESTION-015' in public.get_top_cache_entries(10, :company_a)::text) > 0,
  'and the CLI''s top entries show the stored prompt');

select * from finish();
rollback;
