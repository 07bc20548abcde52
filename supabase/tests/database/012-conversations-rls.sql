-- ai_conversations RLS: own conversations, inside companies the user belongs to.
begin;
select plan(30);

\set company_a '''a0000000-0000-4000-8000-00000000000a'''
\set company_b '''b0000000-0000-4000-8000-00000000000b'''
\set conv_alice '''c0000000-0000-4000-8000-0000000a11ce'''
\set conv_bob '''c0000000-0000-4000-8000-000000000b0b'''
select tests.create_supabase_user('alice') as alice \gset
select tests.create_supabase_user('bob') as bob \gset
select tests.create_supabase_user('admin_a') as admin_a \gset
select tests.create_supabase_user('carol') as carol \gset

insert into public.company_members (company_id, user_id, role) values
  (:company_a, :'alice', 'member'),
  (:company_a, :'bob', 'member'),
  (:company_a, :'admin_a', 'admin'),
  (:company_b, :'carol', 'owner');

insert into public.ai_conversations (id, company_id, user_id, title) values
  (:conv_bob, :company_a, :'bob', 'bob''s conversation');

-- anon ---------------------------------------------------------------------------------------
select tests.clear_authentication();
select throws_ok($$select count(*) from public.ai_conversations$$, '42501', null, 'anon cannot read conversations');
select throws_ok(format($$insert into public.ai_conversations (company_id, user_id) values (%L, %L)$$, :company_a, :'alice'),
  '42501', null, 'anon cannot create conversations');

-- alice: create -------------------------------------------------------------------------------
reset role;
select tests.authenticate_as('alice');
select lives_ok(format($$insert into public.ai_conversations (id, company_id, title) values (%L, %L, 'budget 2026')$$,
                       :conv_alice, :company_a),
  'a member creates a conversation in their company (user_id defaults to auth.uid())');
select is((select user_id from public.ai_conversations where id = :conv_alice), :'alice'::uuid,
  'the new conversation belongs to the caller');
select is((select context_type from public.ai_conversations where id = :conv_alice), 'general',
  'context_type defaults to general');
select lives_ok(format($$insert into public.ai_conversations (company_id, user_id, context_type) values (%L, %L, 'banking')$$,
                       :company_a, :'alice'), 'a member creates a conversation with an explicit own user_id');
select throws_ok(format($$insert into public.ai_conversations (company_id, user_id) values (%L, %L)$$, :company_a, :'bob'),
  '42501', null, 'a member cannot create a conversation for someone else');
select throws_ok(format($$insert into public.ai_conversations (company_id) values (%L)$$, :company_b),
  '42501', null, 'a member cannot create a conversation in a company they do not belong to');
select throws_ok(format($$insert into public.ai_conversations (company_id, message_count) values (%L, 42)$$, :company_a),
  '42501', null, 'a member cannot set message_count');
select throws_ok(format($$insert into public.ai_conversations (company_id, created_at) values (%L, now() - interval '1 year')$$, :company_a),
  '42501', null, 'a member cannot backdate a conversation');

-- alice: read -----------------------------------------------------------------------------------
select is((select count(*)::int from public.ai_conversations), 2, 'a member reads only their own conversations');
select is((select count(*)::int from public.ai_conversations where id = :conv_bob), 0,
  'a member cannot read a colleague''s conversation');

-- alice: update ---------------------------------------------------------------------------------
select lives_ok(format($$update public.ai_conversations set title = 'budget 2027', is_archived = true, context_type = 'accounting' where id = %L$$, :conv_alice),
  'a member updates title, archive flag and context of their conversation');
select results_eq(format($$select title, is_archived, context_type from public.ai_conversations where id = %L$$, :conv_alice),
  $$values ('budget 2027', true, 'accounting')$$, 'the update took effect');
select throws_ok(format($$update public.ai_conversations set user_id = %L where id = %L$$, :'bob', :conv_alice),
  '42501', null, 'a conversation cannot be handed to another user');
select throws_ok(format($$update public.ai_conversations set company_id = %L where id = %L$$, :company_b, :conv_alice),
  '42501', null, 'a conversation cannot move to another company');
select throws_ok(format($$update public.ai_conversations set message_count = 1000 where id = %L$$, :conv_alice),
  '42501', null, 'message_count cannot be written by users');
select throws_ok(format($$update public.ai_conversations set updated_at = now() - interval '1 year' where id = %L$$, :conv_alice),
  '42501', null, 'updated_at cannot be written by users');
select throws_ok(format($$update public.ai_conversations set context_type = 'marketing' where id = %L$$, :conv_alice),
  '23514', null, 'context_type stays within the allowed values');

-- alice vs bob's conversation -------------------------------------------------------------------
update public.ai_conversations set title = 'hijacked' where id = :conv_bob;
delete from public.ai_conversations where id = :conv_bob;
reset role;
select results_eq(format($$select title from public.ai_conversations where id = %L$$, :conv_bob),
  $$values ('bob''s conversation')$$, 'a member can neither update nor delete a colleague''s conversation');

-- bob, admin, carol ---------------------------------------------------------------------------------
select tests.authenticate_as('bob');
select results_eq($$select id from public.ai_conversations$$, format($$values (%L::uuid)$$, :conv_bob),
  'bob reads only his own conversation');
reset role;
select tests.authenticate_as('admin_a');
select is((select count(*)::int from public.ai_conversations), 0,
  'a company admin does not read members'' conversations (aggregates only, through get_conversation_stats)');
reset role;
select tests.authenticate_as('carol');
select is((select count(*)::int from public.ai_conversations), 0, 'a user of another company reads nothing');

-- alice: delete -----------------------------------------------------------------------------
reset role;
select tests.authenticate_as('alice');
select lives_ok(format($$delete from public.ai_conversations where id = %L$$, :conv_alice), 'a member deletes their conversation');
select is((select count(*)::int from public.ai_conversations where id = :conv_alice), 0, 'the conversation is gone');

-- membership is required, not just ownership ----------------------------------------------------
reset role;
delete from public.company_members where user_id = :'alice';
select tests.authenticate_as('alice');
select is((select count(*)::int from public.ai_conversations), 0,
  'after leaving the company, a user no longer reads their conversations there');
select throws_ok(format($$insert into public.ai_conversations (company_id) values (%L)$$, :company_a),
  '42501', null, 'after leaving the company, a user cannot create conversations there');

-- service role ------------------------------------------------------------------------------
reset role;
select tests.authenticate_as_service_role();
select is((select count(*)::int from public.ai_conversations where company_id in (:company_a, :company_b)), 2,
  'the service role reads every conversation');
select lives_ok(format($$insert into public.ai_conversations (company_id, user_id) values (%L, %L)$$, :company_b, :'carol'),
  'the service role creates conversations for any user');
select throws_ok(format($$insert into public.ai_conversations (company_id) values (%L)$$, :company_b),
  '23502', null, 'without a user, user_id has no default for the service role (auth.uid() is null)');

select * from finish();
rollback;
