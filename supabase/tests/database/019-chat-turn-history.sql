-- chat_turn reads a follow-up's history itself and folds it into the turn's cache key, so a
-- follow-up hit is one round trip: the key covers exactly the window returned to the model,
-- the conversation's own context type, and nothing of another user's conversation.
begin;
select plan(14);

\set company_a '''a1900000-0000-4000-8000-00000000000a'''
\set conv_1 '''c1900000-0000-4000-8000-000000000001'''
\set conv_2 '''c1900000-0000-4000-8000-000000000002'''
\set conv_3 '''c1900000-0000-4000-8000-000000000003'''
\set rk '''1900000000000000000000000000000000000000000000000000000000000001'''

select tests.create_supabase_user('h_alice') as alice \gset
select tests.create_supabase_user('h_bob') as bob \gset
insert into public.company_members (company_id, user_id, role) values
  (:company_a, :'alice', 'member'),
  (:company_a, :'bob', 'member');
insert into public.ai_conversations (id, company_id, user_id, title, context_type) values
  (:conv_1, :company_a, :'alice', 'one', 'accounting'),
  (:conv_2, :company_a, :'bob', 'two', 'accounting'),
  (:conv_3, :company_a, :'bob', 'three', 'banking');
insert into public.ai_messages (conversation_id, role, content) values
  (:conv_1, 'user', 'What is VAT?'), (:conv_1, 'assistant', 'A tax.'),
  (:conv_2, 'user', 'What is VAT?'), (:conv_2, 'assistant', 'A tax.'),
  (:conv_3, 'user', 'What is VAT?'), (:conv_3, 'assistant', 'A tax.');

select tests.authenticate_as_service_role();

create temp table turns (name text primary key, r jsonb) on commit drop;
insert into turns values
  ('new', public.chat_turn(:'alice', :company_a, null, 'general', 'Hello',
     jsonb_build_object('company_id', :company_a, 'cache_type', 'chat', 'lease_owner', 'o-new'),
     null, :rk, 20)),
  ('one', public.chat_turn(:'alice', :company_a, :conv_1, 'general', 'And in France?',
     jsonb_build_object('company_id', :company_a, 'cache_type', 'chat', 'lease_owner', 'o-one'),
     null, :rk, 20));

select is((select r ->> 'cache_key' from turns where name = 'new'),
  private.chat_turn_key(:rk, 'general', ''), 'a new conversation''s key: the request key, its context, an empty window');
select is((select r -> 'history' from turns where name = 'new'), '[]'::jsonb, 'and an empty history');
select is((select r -> 'history' from turns where name = 'one'),
  '[{"role": "user", "content": "What is VAT?"}, {"role": "assistant", "content": "A tax."}]'::jsonb,
  'a follow-up gets its history, oldest first, in the same call');
select is((select r ->> 'context_type' from turns where name = 'one'), 'accounting',
  'and the conversation''s context type (not the one passed)');
select is((select r ->> 'cache_key' from turns where name = 'one'),
  private.chat_turn_key(:rk, 'accounting', 'user:12:What is VAT?' || E'\n' || 'assistant:6:A tax.'),
  'its key covers the context and the window, each message as role:length:content');
select isnt((select r ->> 'cache_key' from turns where name = 'one'), (select r ->> 'cache_key' from turns where name = 'new'),
  'so the same question with and without history never shares a key');
select is((select r -> 'lookup' ->> 'lease' from turns where name = 'one'), 'acquired',
  'the lookup ran under that key (the lease is taken on it)');
select ok(exists (select 1 from private.ai_cache_leases l, turns t
                  where t.name = 'one' and l.cache_key = t.r ->> 'cache_key' and l.owner = 'o-one'),
  'the lease row is on the derived key, not the request key');

-- Another member's conversation with the same state shares the key; another context does not.
insert into public.ai_cache (company_id, cache_key, cache_type, model, cached_result, expires_at)
select :company_a, r ->> 'cache_key', 'chat', 'gpt-4o-mini',
       '{"message": {"role": "assistant", "content": "Yes, 20%."}, "finish_reason": "stop"}', now() + interval '1 hour'
from turns where name = 'one';
insert into turns values
  ('two', public.chat_turn(:'bob', :company_a, :conv_2, 'general', 'And in France?',
     jsonb_build_object('company_id', :company_a, 'cache_type', 'chat', 'lease_owner', 'o-two'), null, :rk, 20)),
  ('three', public.chat_turn(:'bob', :company_a, :conv_3, 'general', 'And in France?',
     jsonb_build_object('company_id', :company_a, 'cache_type', 'chat', 'lease_owner', 'o-three'), null, :rk, 20));
select is((select r -> 'lookup' ->> 'status' || '/' || (r -> 'lookup' -> 'cached_result' -> 'message' ->> 'content') from turns where name = 'two'),
  'hit/Yes, 20%.', 'the same history in another member''s conversation is a hit, in one call');
select is((select r -> 'history' from turns where name = 'two'), 'null'::jsonb,
  'a hit returns no history (the answer is stored by chat_turn)');
select is((select count(*)::int from public.ai_messages where conversation_id = :conv_2), 4,
  'and the turn was stored with it');
select is((select r -> 'lookup' ->> 'status' from turns where name = 'three'), 'miss',
  'the same history in a banking conversation is another key');

-- The window is the last p_history_limit messages.
select is(
  (select public.chat_turn(:'alice', :company_a, :conv_1, 'general', 'Next', null, null, :rk, 1) ->> 'cache_key'),
  private.chat_turn_key(:rk, 'accounting', 'assistant:6:A tax.'), 'p_history_limit bounds the window the key covers');

-- Another user's conversation: not found, and nothing of it is returned.
select throws_ok(format($$select public.chat_turn(%L, %L, %L, 'general', 'peek', null, null, %L, 20)$$,
                        :'alice', :company_a, :conv_2, :rk),
  'P0002', null, 'a conversation of another user is not found (its history is never read)');

select * from finish();
rollback;
