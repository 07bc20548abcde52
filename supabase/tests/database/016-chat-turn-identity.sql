-- Identity checked in the database: the chat-turn RPCs (service role, p_user_id from a verified
-- JWT) check membership, conversation ownership and that the cache scope they are handed is
-- the company whose membership they checked. A forged scope or user never crosses companies,
-- and a refused call writes nothing.
begin;
select plan(23);

\set company_a '''a1600000-0000-4000-8000-00000000000a'''
\set company_b '''b1600000-0000-4000-8000-00000000000b'''
\set key_a '''a160000000000000000000000000000000000000000000000000000000000001'''
\set key_b '''b160000000000000000000000000000000000000000000000000000000000001'''

select tests.create_supabase_user('i_alice') as alice \gset
select tests.create_supabase_user('i_bob') as bob \gset
select tests.create_supabase_user('i_mallory') as mallory \gset
insert into public.company_members (company_id, user_id, role) values
  (:company_a, :'alice', 'member'),
  (:company_a, :'bob', 'member'),
  (:company_b, :'mallory', 'owner');

-- B has a cached answer that A must never get.
insert into public.ai_cache (company_id, cache_key, cache_type, model, cached_result, expires_at) values
  (:company_b, :key_b, 'chat', 'gpt-4o-mini', '{"message": {"role": "assistant", "content": "B-ONLY"}}', now() + interval '1 hour');
insert into public.ai_conversations (id, company_id, user_id, title) values
  ('c1600000-0000-4000-8000-00000000000a', :company_a, :'alice', 'alice''s'),
  ('c1600000-0000-4000-8000-00000000000b', :company_b, :'mallory', 'mallory''s');

-- Only the service role may call them ------------------------------------------------------------------
select tests.authenticate_as('i_alice');
select throws_ok(format($$select public.chat_turn(%L, %L, null, 'general', 'hi')$$, :'alice', :company_a), '42501', null,
  'a user cannot call chat_turn directly (not even for themselves)');
select throws_ok(format($$select public.chat_turn_complete(%L, %L, gen_random_uuid(), 'general', 'q', 'a', 1, 'm', false)$$,
                        :'alice', :company_a), '42501', null, 'nor chat_turn_complete');
select throws_ok(format($$select public.chat_turn_release(%L, %L, '{}')$$, :'alice', :company_a), '42501', null,
  'nor chat_turn_release');
select throws_ok(format($$select public.cache_record_call(%L, 'chat', 1, 1, 0)$$, :company_a), '42501', null,
  'nor cache_record_call');
reset role;

select tests.authenticate_as_service_role();

-- A forged scope ---------------------------------------------------------------------------------------
select throws_ok(format($$select public.chat_turn(%L, %L, null, 'general', 'hi',
                          jsonb_build_object('company_id', %L, 'cache_key', %L, 'cache_type', 'chat'))$$,
                        :'alice', :company_a, :company_b, :key_b),
  '42501', null, 'chat_turn refuses a cache scope of another company than the one checked');
select throws_ok(format($$select public.chat_turn(%L, %L, null, 'general', 'hi',
                          jsonb_build_object('company_id', null, 'cache_key', %L, 'cache_type', 'chat'))$$,
                        :'alice', :company_a, :key_b),
  '42501', null, 'and the global scope');
select is((select count(*)::int from private.ai_cache_events where company_id = :company_b), 0,
  'the refused call did not even look B''s entry up');
select throws_ok(format($$select public.chat_turn_complete(%L, %L, gen_random_uuid(), 'general', 'q', 'poison', 1, 'm', false,
                          '{}', jsonb_build_object('company_id', %L, 'cache_key', %L, 'cache_type', 'chat', 'model', 'm',
                                                   'result', '{}'::jsonb, 'ttl_seconds', 60))$$,
                        :'alice', :company_a, :company_b, repeat('f', 64)),
  '42501', null, 'chat_turn_complete refuses to store into another company''s scope');
select is((select count(*)::int from public.ai_cache where company_id = :company_b), 1, 'B''s cache is unchanged');
select is((select count(*)::int from public.ai_conversations where user_id = :'alice'), 1,
  'and the refused turn wrote no conversation');
select throws_ok(format($$select public.cache_record_call(%L, 'chat', 1, 1, 0) from public.chat_turn_complete(%L, %L,
                          gen_random_uuid(), 'general', 'q', 'a', 1, 'm', false, '{}', jsonb_build_object('company_id', %L))$$,
                        :company_a, :'alice', :company_a, :company_b),
  '42501', null, 'a scope given as a bare company id is checked too');

-- A forged user ----------------------------------------------------------------------------------------
select throws_ok(format($$select public.chat_turn(%L, %L, null, 'general', 'hi',
                          jsonb_build_object('company_id', %L, 'cache_key', %L, 'cache_type', 'chat'))$$,
                        :'alice', :company_b, :company_b, :key_b),
  '42501', null, 'a member of A claiming company B is refused even with a consistent scope');
select throws_ok(format($$select public.chat_turn(%L, %L, null, 'general', 'hi')$$, gen_random_uuid(), :company_a),
  '42501', null, 'an unknown user is refused');
select throws_ok(format($$select public.chat_turn(null, %L, null, 'general', 'hi')$$, :company_a),
  '42501', null, 'a missing user is refused');
select throws_ok(format($$select public.chat_turn(%L, %L, 'c1600000-0000-4000-8000-00000000000a', 'general', 'hi')$$,
                        :'bob', :company_a),
  'P0002', null, 'another member of the same company cannot continue alice''s conversation');
select throws_ok(format($$select public.chat_turn(%L, %L, 'c1600000-0000-4000-8000-00000000000b', 'general', 'hi')$$,
                        :'alice', :company_a),
  'P0002', null, 'a conversation of another company is not found');
select throws_ok(format($$select public.chat_turn_complete(%L, %L, 'c1600000-0000-4000-8000-00000000000a', 'general', 'q', 'a', 1, 'm', false)$$,
                        :'bob', :company_a),
  'P0002', null, 'chat_turn_complete will not write into another user''s conversation');
select throws_ok(format($$select public.chat_turn_complete(%L, %L, 'c1600000-0000-4000-8000-00000000000b', 'general', 'q', 'a', 1, 'm', false)$$,
                        :'alice', :company_a),
  'P0002', null, 'nor into another company''s conversation given as new');
select is((select count(*)::int from public.ai_messages m
           where m.conversation_id in ('c1600000-0000-4000-8000-00000000000a', 'c1600000-0000-4000-8000-00000000000b')), 0,
  'no message was written by any refused call');

-- Membership re-checked when the turn completes -----------------------------------------------------------
select is((public.chat_turn(:'alice', :company_a, 'c1600000-0000-4000-8000-00000000000a', 'general', 'hi',
            jsonb_build_object('company_id', :company_a, 'cache_key', :key_a, 'cache_type', 'chat',
                               'lease_owner', 'w1', 'lease_ms', 30000)) -> 'lookup' ->> 'lease'), 'acquired',
  'a genuine turn starts and takes the lease');
delete from public.company_members where user_id = :'alice';
select throws_ok(format($$select public.chat_turn_complete(%L, %L, 'c1600000-0000-4000-8000-00000000000a', 'general', 'hi', 'a', 1, 'm', false,
                          '{}', jsonb_build_object('company_id', %L, 'cache_key', %L, 'cache_type', 'chat', 'model', 'm',
                                                   'result', '{}'::jsonb, 'ttl_seconds', 60, 'lease_owner', 'w1'))$$,
                        :'alice', :company_a, :company_a, :key_a),
  '42501', null, 'a member removed while the model answered stores nothing');
select is((select count(*)::int from public.ai_cache where company_id = :company_a), 0, 'no entry was stored for A');
select throws_ok(format($$select public.chat_history(%L, %L, 'c1600000-0000-4000-8000-00000000000a')$$, :'alice', :company_a),
  '42501', null, 'and the removed member can no longer read the history through the functions');

select * from finish();
rollback;
