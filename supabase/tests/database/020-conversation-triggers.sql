-- Triggers: message_count, last_message_at, updated_at; message order.
begin;
select plan(17);

\set company_a '''a0000000-0000-4000-8000-00000000000a'''
\set conv '''c0000000-0000-4000-8000-00000000000c'''
\set conv2 '''c0000000-0000-4000-8000-00000000000d'''
select tests.create_supabase_user('alice') as alice \gset
insert into public.company_members (company_id, user_id, role) values (:company_a, :'alice', 'member');

-- An old conversation (created a year ago), so the bumps are visible inside this transaction.
insert into public.ai_conversations (id, company_id, user_id, title, created_at, updated_at) values
  (:conv, :company_a, :'alice', 'old', now() - interval '1 year', now() - interval '1 year'),
  (:conv2, :company_a, :'alice', 'other', now() - interval '1 year', now() - interval '1 year');

select is((select message_count from public.ai_conversations where id = :conv), 0, 'a new conversation has 0 messages');
select is((select last_message_at from public.ai_conversations where id = :conv), null, 'and no last_message_at');

-- One message, as the user through RLS ---------------------------------------------------------
select tests.authenticate_as('alice');
insert into public.ai_messages (conversation_id, role, content) values (:conv, 'user', 'first');
reset role;
select is((select message_count from public.ai_conversations where id = :conv), 1,
  'a user''s insert bumps message_count (trigger runs with the needed rights)');
select is((select updated_at from public.ai_conversations where id = :conv), now(),
  'a new message bumps the conversation''s updated_at');
select is((select last_message_at from public.ai_conversations where id = :conv), now(),
  'a new message sets last_message_at');

-- Many inserts: single-row and multi-row statements ---------------------------------------------
insert into public.ai_messages (conversation_id, role, content)
select :conv, case when i % 2 = 0 then 'user' else 'assistant' end, 'message ' || i
from generate_series(1, 199) i;
do $$
begin
  for i in 1..50 loop
    insert into public.ai_messages (conversation_id, role, content)
    values ('c0000000-0000-4000-8000-00000000000c', 'user', 'loop ' || i);
  end loop;
end;
$$;
select is((select message_count from public.ai_conversations where id = :conv), 250,
  'message_count is exact after 250 inserts (bulk and one by one)');
select is((select message_count from public.ai_conversations where id = :conv2), 0,
  'other conversations are untouched');

-- Deletes ---------------------------------------------------------------------------------------
delete from public.ai_messages where conversation_id = :conv and content like 'loop %';
select is((select message_count from public.ai_conversations where id = :conv), 200,
  'message_count follows deletes');
select is((select message_count from public.ai_conversations where id = :conv),
          (select count(*)::int from public.ai_messages where conversation_id = :conv),
  'message_count equals the number of messages');

-- last_message_at is recomputed when the latest message goes ----------------------------------------
insert into public.ai_messages (conversation_id, role, content, created_at)
values (:conv, 'user', 'future', now() + interval '1 hour');
select is((select last_message_at from public.ai_conversations where id = :conv), now() + interval '1 hour',
  'last_message_at is the latest created_at');
delete from public.ai_messages where conversation_id = :conv and content = 'future';
select is((select last_message_at from public.ai_conversations where id = :conv), now(),
  'last_message_at is recomputed when the latest message is deleted');

-- updated_at on a direct update ---------------------------------------------------------------------
update public.ai_conversations set updated_at = now() - interval '1 year' where id = :conv2;
select is((select updated_at from public.ai_conversations where id = :conv2), now(),
  'updated_at cannot be set by hand: the trigger overrides it on every update');
select tests.authenticate_as('alice');
update public.ai_conversations set title = 'renamed' where id = :conv2;
reset role;
select is((select updated_at from public.ai_conversations where id = :conv2), now(),
  'a user''s update bumps updated_at');
select is((select created_at from public.ai_conversations where id = :conv2), now() - interval '1 year',
  'created_at is untouched');

-- Stable order within one timestamp ------------------------------------------------------------------
insert into public.ai_messages (conversation_id, role, content) values
  (:conv2, 'user', 'q1'), (:conv2, 'assistant', 'a1'), (:conv2, 'user', 'q2'), (:conv2, 'assistant', 'a2');
select results_eq(format($$select content from public.ai_messages where conversation_id = %L order by created_at, seq$$, :conv2),
  $$values ('q1'), ('a1'), ('q2'), ('a2')$$,
  'messages with the same created_at keep their insertion order through seq');

-- Cascade ------------------------------------------------------------------------------------------
delete from public.ai_conversations where id = :conv;
select is((select count(*)::int from public.ai_messages where conversation_id = :conv), 0,
  'deleting a conversation deletes its messages');
select is((select message_count from public.ai_conversations where id = :conv2), 4,
  'the cascade does not disturb other conversations');

select * from finish();
rollback;
