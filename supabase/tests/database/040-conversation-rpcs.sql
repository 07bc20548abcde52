-- get_conversation_with_messages() and get_conversation_stats().
begin;
select plan(24);

\set company_a '''a0000000-0000-4000-8000-00000000000a'''
\set company_b '''b0000000-0000-4000-8000-00000000000b'''
\set c1 '''c0000000-0000-4000-8000-0000000000c1'''
\set c2 '''c0000000-0000-4000-8000-0000000000c2'''
\set c3 '''c0000000-0000-4000-8000-0000000000c3'''
select tests.create_supabase_user('alice') as alice \gset
select tests.create_supabase_user('bob') as bob \gset
select tests.create_supabase_user('admin_a') as admin_a \gset
select tests.create_supabase_user('owner_a') as owner_a \gset
select tests.create_supabase_user('carol') as carol \gset
select tests.create_supabase_user('outsider') as outsider \gset
insert into public.company_members (company_id, user_id, role) values
  (:company_a, :'alice', 'member'), (:company_a, :'bob', 'member'),
  (:company_a, :'admin_a', 'admin'), (:company_a, :'owner_a', 'owner'), (:company_b, :'carol', 'owner');

-- alice: c1 (general, 4 messages, 1 cached answer), c2 (banking, archived, 2 messages, 1 cached answer)
-- bob:   c3 (accounting, 2 messages, no cached answer). All messages share one timestamp (this transaction's).
insert into public.ai_conversations (id, company_id, user_id, title, context_type, is_archived) values
  (:c1, :company_a, :'alice', 'first', 'general', false),
  (:c2, :company_a, :'alice', 'second', 'banking', true),
  (:c3, :company_a, :'bob', 'third', 'accounting', false);
insert into public.ai_messages (conversation_id, role, content, tokens_used, from_cache) values
  (:c1, 'user', 'secret question one', null, false),
  (:c1, 'assistant', 'secret answer one', 30, false),
  (:c1, 'user', 'secret question two', null, false),
  (:c1, 'assistant', 'secret answer two', 20, true),
  (:c2, 'user', 'secret banking question', null, false),
  (:c2, 'assistant', 'secret banking answer', 10, true),
  (:c3, 'user', 'bob question', null, false),
  (:c3, 'assistant', 'bob answer', 40, false);

-- get_conversation_with_messages ------------------------------------------------------------------------
select tests.authenticate_as('alice');
select results_eq(format($$select r->'conversation'->>'id', r->'conversation'->>'title', (r->'conversation'->>'message_count')::int,
                                 jsonb_array_length(r->'messages')
                          from public.get_conversation_with_messages(%L) r$$, :c1),
  format($$values (%L, 'first', 4, 4)$$, trim(both '''' from :'c1')),
  'the owner gets the conversation and its messages');
select results_eq(format($$select m->>'role', m->>'content' from jsonb_array_elements(public.get_conversation_with_messages(%L)->'messages') m$$, :c1),
  $$values ('user', 'secret question one'), ('assistant', 'secret answer one'),
           ('user', 'secret question two'), ('assistant', 'secret answer two')$$,
  'messages come in conversation order, even within one timestamp');
select set_eq(format($$select jsonb_object_keys(public.get_conversation_with_messages(%L)->'messages'->0)$$, :c1),
  array['id', 'conversation_id', 'seq', 'role', 'content', 'metadata', 'tokens_used', 'model', 'from_cache', 'created_at'],
  'each message carries the documented fields');
select is(public.get_conversation_with_messages(:c3), null, 'a colleague''s conversation is invisible (null)');
select is(public.get_conversation_with_messages('c0000000-0000-4000-8000-0000000000ff'), null, 'an unknown id gives null');
reset role;
select tests.authenticate_as('admin_a');
select is(public.get_conversation_with_messages(:c1), null, 'a company admin cannot read a member''s conversation');
reset role;
select tests.clear_authentication();
select throws_ok(format($$select public.get_conversation_with_messages(%L)$$, :c1), '42501', null,
  'anon cannot call get_conversation_with_messages');
reset role;
select tests.authenticate_as_service_role();
select is(jsonb_array_length(public.get_conversation_with_messages(:c3)->'messages'), 2, 'the service role reads any conversation');

-- get_conversation_stats: a member gets their own figures ----------------------------------------------
reset role;
select tests.authenticate_as('alice');
select results_eq(format($$
  select scope, users, conversations, active, archived, messages, user_messages, assistant_messages,
         cached_answers, cached_answer_share, tokens_used, tokens_from_cache
  from jsonb_to_record(public.get_conversation_stats(%L)) as s(
    scope text, users int, conversations int, active int, archived int, messages int, user_messages int,
    assistant_messages int, cached_answers int, cached_answer_share numeric, tokens_used int, tokens_from_cache int)$$, :company_a),
  $$values ('user', 1, 2, 1, 1, 6, 3, 3, 2, 0.6667, 60, 30)$$,
  'a member gets the figures of their own conversations');
select results_eq(format($$
  select context_type, conversations, archived, messages, cached_answers, tokens_used
  from jsonb_to_recordset(public.get_conversation_stats(%L)->'by_context_type') as t(
    context_type text, conversations int, archived int, messages int, cached_answers int, tokens_used int)$$, :company_a),
  $$values ('banking', 1, 1, 2, 1, 10), ('general', 1, 0, 4, 1, 50)$$,
  'split by context type');
select is(position('secret' in public.get_conversation_stats(:company_a)::text), 0, 'the statistics contain no message content');
select throws_ok(format($$select public.get_conversation_stats(%L)$$, :company_b), '42501', null,
  'a member gets 42501 for a company they do not belong to');
reset role;
select tests.authenticate_as('bob');
select results_eq(format($$select scope, conversations, messages, cached_answers, cached_answer_share, tokens_used
                          from jsonb_to_record(public.get_conversation_stats(%L)) as s(
                            scope text, conversations int, messages int, cached_answers int, cached_answer_share numeric, tokens_used int)$$, :company_a),
  $$values ('user', 1, 2, 0, 0::numeric, 40)$$, 'another member gets only their own figures');

-- owners/admins get company-wide aggregates -------------------------------------------------------------
reset role;
select tests.authenticate_as('admin_a');
select results_eq(format($$
  select scope, users, conversations, active, archived, messages, user_messages, assistant_messages,
         cached_answers, cached_answer_share, tokens_used, tokens_from_cache
  from jsonb_to_record(public.get_conversation_stats(%L)) as s(
    scope text, users int, conversations int, active int, archived int, messages int, user_messages int,
    assistant_messages int, cached_answers int, cached_answer_share numeric, tokens_used int, tokens_from_cache int)$$, :company_a),
  $$values ('company', 2, 3, 2, 1, 8, 4, 4, 2, 0.5000, 100, 30)$$,
  'an admin gets company-wide aggregates');
select results_eq(format($$
  select context_type, conversations, messages
  from jsonb_to_recordset(public.get_conversation_stats(%L)->'by_context_type') as t(context_type text, conversations int, messages int)$$, :company_a),
  $$values ('accounting', 1, 2), ('banking', 1, 2), ('general', 1, 4)$$,
  'company-wide split by context type');
select is(position('secret' in public.get_conversation_stats(:company_a)::text), 0, 'company aggregates contain no content');
select throws_ok($$select private.conversation_stats('a0000000-0000-4000-8000-00000000000a', null)$$, '42501', null,
  'an admin cannot call the unrestricted body directly');
reset role;
select tests.authenticate_as('owner_a');
select is(public.get_conversation_stats(:company_a)->>'scope', 'company', 'an owner gets company-wide aggregates');

-- others ------------------------------------------------------------------------------------------------
reset role;
select tests.authenticate_as('carol');
select throws_ok(format($$select public.get_conversation_stats(%L)$$, :company_a), '42501', null,
  'the owner of another company gets 42501');
select is((public.get_conversation_stats(:company_b)->>'conversations')::int, 0, 'an empty company gives zeros');
reset role;
select tests.authenticate_as('outsider');
select throws_ok(format($$select public.get_conversation_stats(%L)$$, :company_a), '42501', null, 'a non-member gets 42501');
reset role;
select tests.clear_authentication();
select throws_ok(format($$select public.get_conversation_stats(%L)$$, :company_a), '42501', null, 'anon cannot call get_conversation_stats');
reset role;
select tests.authenticate_as_service_role();
select is((public.get_conversation_stats(:company_a)->>'messages')::int, 8, 'the service role gets company-wide aggregates');
select throws_ok($$select public.get_conversation_stats(null)$$, '22023', null, 'the service role must name a company');

select * from finish();
rollback;
