-- A turn is written with its outcome: a miss writes no conversation and no message until the
-- answer exists; the question and the answer are stored together. Idempotency-Key: claim,
-- in-progress, replay of the same turn, mismatch, release after a failure, 24 h window, cleanup.
begin;
select plan(35);

\set company_a '''a1700000-0000-4000-8000-00000000000a'''
\set k1 '''a170000000000000000000000000000000000000000000000000000000000001'''
\set k2 '''a170000000000000000000000000000000000000000000000000000000000002'''
\set conv '''c1700000-0000-4000-8000-000000000001'''

select tests.create_supabase_user('o_alice') as alice \gset
insert into public.company_members (company_id, user_id, role) values (:company_a, :'alice', 'member');

select tests.authenticate_as_service_role();

-- only-if-cached miss: a read that writes nothing --------------------------------------------------------
select is(public.chat_turn(:'alice', :company_a, null, 'general', 'only if cached?',
            jsonb_build_object('company_id', :company_a, 'cache_key', :k1, 'cache_type', 'chat'),
            jsonb_build_object('key', 'idem-oic', 'request_hash', 'h0', 'owner', 'o0', 'claim_ms', 60000)) -> 'lookup' ->> 'status',
  'miss', 'an only-if-cached lookup misses');
select is((select count(*)::int from public.ai_conversations where user_id = :'alice'), 0, 'and creates no conversation');
select is((select count(*)::int from private.ai_chat_idempotency where user_id = :'alice'), 0, 'and keeps no idempotency key');

-- A miss that will call the model: nothing stored until the answer ----------------------------------------
select public.chat_turn(:'alice', :company_a, null, 'accounting', 'What is VAT?',
         jsonb_build_object('company_id', :company_a, 'cache_key', :k1, 'cache_type', 'chat', 'lease_owner', 'w1', 'lease_ms', 30000),
         jsonb_build_object('key', 'idem-1', 'request_hash', 'h1', 'owner', 'o1', 'claim_ms', 60000)) as started \gset
select is((:'started'::jsonb) ->> 'idempotency', 'claimed', 'the first request claims its key');
select is((:'started'::jsonb) -> 'lookup' ->> 'lease', 'acquired', 'and the lease');
select ok((:'started'::jsonb) ->> 'conversation_id' is not null and not ((:'started'::jsonb) ->> 'created')::boolean,
  'a new conversation gets its id now, stored only with the answer');
select is((select count(*)::int from public.ai_conversations where user_id = :'alice'), 0, 'no conversation yet');
select is((select count(*)::int from public.ai_messages m join public.ai_conversations c on c.id = m.conversation_id
           where c.user_id = :'alice'), 0, 'no orphan question while the model answers');

-- A duplicate while the first is in flight, and a different request under the same key --------------------
select is(public.chat_turn(:'alice', :company_a, null, 'accounting', 'What is VAT?', null,
            jsonb_build_object('key', 'idem-1', 'request_hash', 'h1', 'owner', 'o2', 'claim_ms', 60000)) ->> 'idempotency',
  'in_progress', 'a concurrent duplicate finds the claim and must wait');
select is(public.chat_turn(:'alice', :company_a, null, 'accounting', 'Something else', null,
            jsonb_build_object('key', 'idem-1', 'request_hash', 'h-other', 'owner', 'o3', 'claim_ms', 60000)) ->> 'idempotency',
  'mismatch', 'the same key with another request is refused');

-- The answer exists: question and answer stored together ----------------------------------------------------
select public.chat_turn_complete(:'alice', :company_a, ((:'started'::jsonb) ->> 'conversation_id')::uuid, 'accounting',
         'What is VAT?', 'A tax on value added.', 30, 'gpt-4o-mini', false, '{"cache": "MISS"}',
         jsonb_build_object('company_id', :company_a, 'cache_key', :k1, 'cache_type', 'chat', 'model', 'gpt-4o-mini',
                            'request', '{"prompt": "What is VAT?"}'::jsonb,
                            'result', '{"message": {"role": "assistant", "content": "A tax on value added."}}'::jsonb,
                            'prompt_tokens', 20, 'completion_tokens', 10, 'cost_usd', 0.000009, 'ttl_seconds', 60,
                            'lease_owner', 'w1'),
         jsonb_build_object('key', 'idem-1', 'request_hash', 'h1', 'owner', 'o1', 'claim_ms', 60000),
         '{"model": "gpt-4o-mini", "usage": {"prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30}, "from_cache": false, "cache": "MISS"}'
       ) as done \gset
select ok(((:'done'::jsonb) ->> 'created')::boolean, 'the conversation is created with the first answer');
select results_eq(format($$select c.title, c.context_type, c.message_count from public.ai_conversations c where c.id = %L$$,
                         (:'started'::jsonb) ->> 'conversation_id'),
  $$values ('What is VAT?'::text, 'accounting'::text, 2)$$, 'under the id chat_turn gave, with its title and context');
select results_eq(format($$select role, content from public.ai_messages where conversation_id = %L order by created_at, seq$$,
                         (:'started'::jsonb) ->> 'conversation_id'),
  $$values ('user'::text, 'What is VAT?'::text), ('assistant', 'A tax on value added.')$$, 'question then answer');
select is((select lease_released from jsonb_to_record((:'done'::jsonb) -> 'cache') as x(lease_released boolean)), true,
  'the entry is stored and the lease released in the same transaction');

-- A retry with the same key replays the same turn -------------------------------------------------------------
select public.chat_turn(:'alice', :company_a, null, 'accounting', 'What is VAT?',
         jsonb_build_object('company_id', :company_a, 'cache_key', :k2, 'cache_type', 'chat', 'lease_owner', 'w9', 'lease_ms', 30000),
         jsonb_build_object('key', 'idem-1', 'request_hash', 'h1', 'owner', 'o4', 'claim_ms', 60000)) as retried \gset
select is((:'retried'::jsonb) ->> 'idempotency', 'replay', 'a retry with the key is a replay');
select is((:'retried'::jsonb) -> 'replay' ->> 'conversation_id', (:'started'::jsonb) ->> 'conversation_id', 'of the same conversation');
select is((:'retried'::jsonb) -> 'replay' ->> 'message_id', (:'done'::jsonb) ->> 'assistant_message_id', 'and the same message');
select is((:'retried'::jsonb) -> 'replay' ->> 'message', 'A tax on value added.', 'with its text');
select is((:'retried'::jsonb) -> 'replay' -> 'usage' ->> 'total_tokens', '30', 'and its usage');
select is((:'retried'::jsonb) -> 'lookup', 'null'::jsonb, 'without a cache lookup');
select is((select count(*)::int from private.ai_cache_leases where cache_key = :k2), 0, 'nor a lease');
select is((select count(*)::int from public.ai_messages m join public.ai_conversations c on c.id = m.conversation_id
           where c.user_id = :'alice'), 2, 'and without a second pair of messages');

-- A hit stores the turn in the same call --------------------------------------------------------------------
select public.chat_turn(:'alice', :company_a, null, 'accounting', 'What is VAT?',
         jsonb_build_object('company_id', :company_a, 'cache_key', :k1, 'cache_type', 'chat', 'lease_owner', 'w2', 'lease_ms', 30000),
         jsonb_build_object('key', 'idem-hit', 'request_hash', 'h2', 'owner', 'o5', 'claim_ms', 60000)) as hit \gset
select is((:'hit'::jsonb) -> 'lookup' ->> 'status', 'hit', 'the same question in a new conversation hits');
select results_eq(format($$select role, content, from_cache, tokens_used from public.ai_messages where conversation_id = %L order by created_at, seq$$,
                         (:'hit'::jsonb) ->> 'conversation_id'),
  $$values ('user'::text, 'What is VAT?'::text, false, null::integer), ('assistant', 'A tax on value added.', true, 0)$$,
  'a hit stores question and answer at once (nothing spent)');
select is(public.chat_turn(:'alice', :company_a, null, 'accounting', 'What is VAT?', null,
            jsonb_build_object('key', 'idem-hit', 'request_hash', 'h2', 'owner', 'o6', 'claim_ms', 60000)) -> 'replay' ->> 'cache',
  'HIT', 'and completes its key: a retry replays the HIT');

-- A failed turn gives its key back ----------------------------------------------------------------------------
select is(public.chat_turn(:'alice', :company_a, ((:'started'::jsonb) ->> 'conversation_id')::uuid, 'accounting', 'Fails', null,
            jsonb_build_object('key', 'idem-fail', 'request_hash', 'h3', 'owner', 'o7', 'claim_ms', 60000)) ->> 'idempotency',
  'claimed', 'a turn claims its key');
select lives_ok(format($$select public.chat_turn_release(%L, %L, '{"key": "idem-fail", "owner": "someone-else"}')$$, :'alice', :company_a),
  'a release by another owner is a no-op');
select is((select count(*)::int from private.ai_chat_idempotency where idempotency_key = 'idem-fail'), 1, 'the claim stays');
select lives_ok(format($$select public.chat_turn_release(%L, %L, '{"key": "idem-fail", "owner": "o7"}')$$, :'alice', :company_a),
  'the model failed: the turn releases its key');
select is(public.chat_turn(:'alice', :company_a, ((:'started'::jsonb) ->> 'conversation_id')::uuid, 'accounting', 'Fails', null,
            jsonb_build_object('key', 'idem-fail', 'request_hash', 'h3', 'owner', 'o8', 'claim_ms', 60000)) ->> 'idempotency',
  'claimed', 'so the retry runs normally');
select is((select message_count from public.ai_conversations where id = ((:'started'::jsonb) ->> 'conversation_id')::uuid), 2,
  'and the failed turn left no message behind');

-- A claim whose request died expires; keys live 24 hours ----------------------------------------------------
update private.ai_chat_idempotency set claim_expires_at = now() - interval '1 second' where idempotency_key = 'idem-fail';
select is(public.chat_turn(:'alice', :company_a, ((:'started'::jsonb) ->> 'conversation_id')::uuid, 'accounting', 'Fails', null,
            jsonb_build_object('key', 'idem-fail', 'request_hash', 'h3', 'owner', 'o9', 'claim_ms', 60000)) ->> 'idempotency',
  'claimed', 'a dead request''s claim is taken over once it expires');
update private.ai_chat_idempotency set expires_at = now() - interval '1 second' where idempotency_key = 'idem-1';
select is(public.chat_turn(:'alice', :company_a, null, 'accounting', 'Reused after a day', null,
            jsonb_build_object('key', 'idem-1', 'request_hash', 'h-new', 'owner', 'o10', 'claim_ms', 60000)) ->> 'idempotency',
  'claimed', 'after 24 hours a key is free again, for any request');
update private.ai_chat_idempotency set expires_at = now() - interval '1 second' where idempotency_key = 'idem-hit';
select is(private.chat_idempotency_cleanup(), 1, 'the cleanup deletes expired keys');
reset role;
select results_eq($$select schedule, command from cron.job where jobname = 'ai-chat-idempotency-cleanup'$$,
  $$values ('17 * * * *'::text, 'select private.chat_idempotency_cleanup()'::text)$$, 'hourly, by pg_cron');

select * from finish();
rollback;
