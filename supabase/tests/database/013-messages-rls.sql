-- ai_messages RLS: messages follow their conversation.
begin;
select plan(19);

\set company_a '''a0000000-0000-4000-8000-00000000000a'''
\set conv_alice '''c0000000-0000-4000-8000-0000000a11ce'''
\set conv_bob '''c0000000-0000-4000-8000-000000000b0b'''
\set msg_bob '''d0000000-0000-4000-8000-000000000b0b'''
select tests.create_supabase_user('alice') as alice \gset
select tests.create_supabase_user('bob') as bob \gset
select tests.create_supabase_user('admin_a') as admin_a \gset

insert into public.company_members (company_id, user_id, role) values
  (:company_a, :'alice', 'member'),
  (:company_a, :'bob', 'member'),
  (:company_a, :'admin_a', 'admin');
insert into public.ai_conversations (id, company_id, user_id) values
  (:conv_alice, :company_a, :'alice'),
  (:conv_bob, :company_a, :'bob');
insert into public.ai_messages (id, conversation_id, role, content) values
  (:msg_bob, :conv_bob, 'user', 'bob''s secret question');

-- anon -----------------------------------------------------------------------------------------
select tests.clear_authentication();
select throws_ok($$select count(*) from public.ai_messages$$, '42501', null, 'anon cannot read messages');

-- alice ------------------------------------------------------------------------------------------
reset role;
select tests.authenticate_as('alice');
select lives_ok(format($$insert into public.ai_messages (conversation_id, role, content) values (%L, 'user', 'hello')$$, :conv_alice),
  'a user adds a message to their conversation');
select lives_ok(format($$insert into public.ai_messages (conversation_id, role, content, tokens_used, model, from_cache, metadata)
                         values (%L, 'assistant', 'hi!', 12, 'gpt-4o-mini', true, '{"finish_reason":"stop"}')$$, :conv_alice),
  'a user may persist an assistant turn (documented: from_cache is then self-reported)');
select is((select count(*)::int from public.ai_messages), 2, 'a user reads only the messages of their conversations');
select is((select count(*)::int from public.ai_messages where id = :msg_bob), 0, 'a user cannot read a colleague''s message');
select throws_ok(format($$insert into public.ai_messages (conversation_id, role, content) values (%L, 'user', 'injected')$$, :conv_bob),
  '42501', null, 'a user cannot add a message to a colleague''s conversation');
select throws_ok(format($$insert into public.ai_messages (conversation_id, role, content, created_at) values (%L, 'user', 'x', now() - interval '1 day')$$, :conv_alice),
  '42501', null, 'created_at is server-assigned');
select throws_ok($$update public.ai_messages set content = 'edited'$$, '42501', null, 'messages are append-only (no update)');
select throws_ok(format($$insert into public.ai_messages (conversation_id, role, content) values (%L, 'admin', 'x')$$, :conv_alice),
  '23514', null, 'the role must be user, assistant, system or tool');
select throws_ok(format($$insert into public.ai_messages (conversation_id, role, content, metadata) values (%L, 'user', 'x', '[1,2]')$$, :conv_alice),
  '23514', null, 'metadata must be a JSON object');

delete from public.ai_messages where id = :msg_bob;
reset role;
select is((select count(*)::int from public.ai_messages where id = :msg_bob), 1, 'a user cannot delete a colleague''s message');

select tests.authenticate_as('alice');
select lives_ok(format($$delete from public.ai_messages where conversation_id = %L and role = 'assistant'$$, :conv_alice),
  'a user deletes a message of their conversation');
select is((select count(*)::int from public.ai_messages), 1, 'the message is gone');

-- bob, admin ------------------------------------------------------------------------------------------
reset role;
select tests.authenticate_as('bob');
select results_eq($$select content from public.ai_messages$$, $$values ('bob''s secret question')$$,
  'bob reads only his messages');
reset role;
select tests.authenticate_as('admin_a');
select is((select count(*)::int from public.ai_messages), 0, 'a company admin reads no message content');

-- leaving the company ---------------------------------------------------------------------------------
reset role;
delete from public.company_members where user_id = :'alice';
select tests.authenticate_as('alice');
select is((select count(*)::int from public.ai_messages), 0, 'after leaving the company, a user no longer reads those messages');
select throws_ok(format($$insert into public.ai_messages (conversation_id, role, content) values (%L, 'user', 'x')$$, :conv_alice),
  '42501', null, 'after leaving the company, a user cannot add messages there');

-- service role -----------------------------------------------------------------------------------------
reset role;
select tests.authenticate_as_service_role();
select is((select count(*)::int from public.ai_messages where conversation_id in (:conv_alice, :conv_bob)), 2,
  'the service role reads every message');
select lives_ok(format($$insert into public.ai_messages (conversation_id, role, content, from_cache) values (%L, 'assistant', 'cached answer', true)$$, :conv_bob),
  'the service role writes messages in any conversation');

select * from finish();
rollback;
