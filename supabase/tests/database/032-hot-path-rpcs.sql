-- Hot-path RPCs: cache_lookup, cache_store, cache_release_lease, cache_peek, increment_cache_hit_count.
begin;
select plan(57);

\set company_a '''a0000000-0000-4000-8000-00000000000a'''
\set company_b '''b0000000-0000-4000-8000-00000000000b'''
\set k1 '''0321111111111111111111111111111111111111111111111111111111111111'''
\set k2 '''0322222222222222222222222222222222222222222222222222222222222222'''
\set k3 '''0323333333333333333333333333333333333333333333333333333333333333'''

-- Privileges first ------------------------------------------------------------------------------------
select tests.create_supabase_user('admin_a') as admin_a \gset
insert into public.company_members (company_id, user_id, role) values (:company_a, :'admin_a', 'admin');
select tests.clear_authentication();
select throws_ok(format($$select public.cache_lookup(%L, %L, 'chat')$$, :company_a, :k1), '42501', null,
  'anon cannot call cache_lookup');
reset role;
select tests.authenticate_as('admin_a');
select throws_ok(format($$select public.cache_lookup(%L, %L, 'chat')$$, :company_a, :k1), '42501', null,
  'even a company admin cannot call cache_lookup (service role only)');
select throws_ok(format($$select public.cache_store(%L, %L, 'chat', 'm', null, '{}', 1, 1, 0, 60)$$, :company_a, :k1), '42501', null,
  'a company admin cannot call cache_store');
select throws_ok(format($$select public.cache_peek(%L, %L)$$, :company_a, :k1), '42501', null,
  'a company admin cannot call cache_peek');
select throws_ok(format($$select public.cache_release_lease(%L, %L, 'w')$$, :company_a, :k1), '42501', null,
  'a company admin cannot call cache_release_lease');
select throws_ok($$select public.increment_cache_hit_count(1)$$, '42501', null,
  'a company admin cannot call increment_cache_hit_count');
reset role;

select tests.authenticate_as_service_role();

-- Miss without lease --------------------------------------------------------------------------------
select results_eq(format($$select r->>'status', r->'stale', r->'lease' from public.cache_lookup(%L, %L, 'chat') r$$, :company_a, :k1),
  $$values ('miss', 'null'::jsonb, 'null'::jsonb)$$,
  'a lookup on an empty key is a miss with no stale entry and no lease');
select results_eq(format($$select kind, cache_type, cache_id, tokens from private.ai_cache_events where company_id = %L$$, :company_a),
  $$values ('miss', 'chat', null::bigint, 0)$$, 'the miss is recorded as one event');
select throws_ok($$select public.cache_lookup(null, null, 'chat')$$, '22023', null, 'cache_key is required');

-- Leases ------------------------------------------------------------------------------------------------
select results_eq(format($$select r->>'lease', (r->>'lease_expires_at')::timestamptz from public.cache_lookup(%L, %L, 'chat', null, 'worker-1') r$$, :company_a, :k1),
  $$values ('acquired', now() + interval '30 seconds')$$, 'the first caller acquires the lease (30 s by default)');
select results_eq(format($$select r->>'status', r->>'lease', (r->>'lease_expires_at')::timestamptz from public.cache_lookup(%L, %L, 'chat', null, 'worker-2') r$$, :company_a, :k1),
  $$values ('miss', 'held', now() + interval '30 seconds')$$, 'a second caller sees it held, with its expiry');
select is(public.cache_lookup(:company_a, :k1, 'chat', null, 'worker-1') ->> 'lease', 'acquired',
  'the owner asking again keeps (re-acquires) its lease');
select is(public.cache_lookup(:company_b, :k1, 'chat', null, 'worker-2') ->> 'lease', 'acquired',
  'the same key in another scope is another lease');
select is(public.cache_lookup(null, :k1, 'chat', null, 'worker-2') ->> 'lease', 'acquired',
  'the same key in the global scope is another lease');
select is((public.cache_lookup(:company_a, :k2, 'chat', null, 'worker-3', 5000) ->> 'lease_expires_at')::timestamptz,
  now() + interval '5 seconds', 'p_lease_ms sets the lease duration');
select throws_ok(format($$select public.cache_lookup(%L, %L, 'chat', null, 'w', 0)$$, :company_a, :k2), '22023', null,
  'p_lease_ms must be positive');
reset role;
update private.ai_cache_leases set expires_at = now() - interval '1 millisecond' where company_id = :company_a and cache_key = :k1;
select tests.authenticate_as_service_role();
select is(public.cache_lookup(:company_a, :k1, 'chat', null, 'worker-2') ->> 'lease', 'acquired',
  'an expired lease is taken over');
select results_eq(format($$select owner from private.ai_cache_leases where company_id = %L and cache_key = %L$$, :company_a, :k1),
  $$values ('worker-2')$$, 'the lease now belongs to the new caller');
select is((select count(*)::int from private.ai_cache_events where company_id = :company_a and kind = 'miss'), 5,
  'every miss is recorded once; a caller that found the lease held is not (cache_poll counts it)');

-- Store --------------------------------------------------------------------------------------------------
select public.cache_store(:company_a, :k1, 'chat', 'gpt-4o-mini', '{"messages":[{"role":"user","content":"hi"}]}',
                          '{"message":{"role":"assistant","content":"hello"}}', 100, 50, 0.002, 3600, 1::smallint, 'worker-1')
       as store_wrong_owner \gset
select is((:'store_wrong_owner'::jsonb ->> 'lease_released')::boolean, false,
  'storing with an owner that does not hold the lease releases nothing');
select results_eq(format($$select owner from private.ai_cache_leases where company_id = %L and cache_key = %L$$, :company_a, :k1),
  $$values ('worker-2')$$, 'the real owner keeps the lease');
select public.cache_store(:company_a, :k1, 'chat', 'gpt-4o-mini', '{"messages":[{"role":"user","content":"hi"}]}',
                          '{"message":{"role":"assistant","content":"hello"}}', 100, 50, 0.002, 3600, 1::smallint, 'worker-2')
       as store \gset
select results_eq(format($$select (%L::jsonb ->> 'created_at')::timestamptz, (%L::jsonb ->> 'expires_at')::timestamptz, (%L::jsonb ->> 'lease_released')::boolean$$,
                         :'store', :'store', :'store'),
  $$values (now(), now() + interval '3600 seconds', true)$$,
  'cache_store returns created_at, expires_at = created_at + ttl, and releases the owner''s lease');
select is((:'store'::jsonb ->> 'id')::bigint, (select id from public.ai_cache where company_id = :company_a and cache_key = :k1),
  'cache_store returns the entry id');
select is((select count(*)::int from private.ai_cache_leases where company_id = :company_a and cache_key = :k1), 0,
  'the lease row is gone');
select results_eq(format($$select tokens, cost_usd, cache_id from private.ai_cache_events where company_id = %L and kind = 'upstream_call'$$, :company_a),
  format($$values (150, 0.002, %s::bigint), (150, 0.002, %s::bigint)$$, :'store'::jsonb ->> 'id', :'store'::jsonb ->> 'id'),
  'each store records an upstream_call event with the call''s tokens and cost');
select results_eq(format($$select model, prompt_tokens, completion_tokens, total_tokens, cost_usd, request is not null, hit_count
                          from public.ai_cache where company_id = %L and cache_key = %L$$, :company_a, :k1),
  $$values ('gpt-4o-mini', 100, 50, 150, 0.002, true, 0::bigint)$$, 'the entry holds the model, tokens and cost');
select throws_ok(format($$select public.cache_store(%L, %L, 'chat', 'm', null, '{}', 1, 1, 0, 0)$$, :company_a, :k3),
  '22023', null, 'p_ttl_seconds must be >= 1');
select throws_ok(format($$select public.cache_store(%L, %L, 'chat', 'm', null, null, 1, 1, 0, 60)$$, :company_a, :k3),
  '22023', null, 'p_result is required');
select throws_ok(format($$select public.cache_store(%L, 'NOT-A-KEY', 'chat', 'm', null, '{}', 1, 1, 0, 60)$$, :company_a),
  '23514', null, 'a malformed cache key is rejected');

-- Hit -------------------------------------------------------------------------------------------------
select xmin::text as entry_xmin from public.ai_cache where company_id = :company_a and cache_key = :k1 \gset
select public.cache_lookup(:company_a, :k1, 'chat') as hit \gset
select set_eq(format($$select jsonb_object_keys(%L::jsonb)$$, :'hit'),
  array['status', 'id', 'cache_type', 'model', 'key_version', 'cached_result', 'created_at', 'expires_at',
        'age_seconds', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'cost_usd'],
  'a hit returns the documented document');
select results_eq(format($$select r->>'status', (r->>'id')::bigint, r->'cached_result', r->>'model', (r->>'age_seconds')::int,
                                 (r->>'prompt_tokens')::int, (r->>'completion_tokens')::int, (r->>'total_tokens')::int,
                                 (r->>'cost_usd')::numeric, (r->>'created_at')::timestamptz, (r->>'expires_at')::timestamptz
                          from (select %L::jsonb as r) x$$, :'hit'),
  format($$values ('hit', %s::bigint, '{"message":{"role":"assistant","content":"hello"}}'::jsonb, 'gpt-4o-mini', 0, 100, 50, 150, 0.002,
                   now(), now() + interval '3600 seconds')$$, :'store'::jsonb ->> 'id'),
  'the hit carries the answer, model, age, tokens and cost');
select results_eq(format($$select cache_id, tokens, cost_usd from private.ai_cache_events where company_id = %L and kind = 'hit'$$, :company_a),
  format($$values (%s::bigint, 150, 0.002)$$, :'store'::jsonb ->> 'id'),
  'the hit is recorded as an event carrying the entry''s tokens and cost');
select results_eq(format($$select xmin::text, hit_count, last_hit_at from public.ai_cache where company_id = %L and cache_key = %L$$, :company_a, :k1),
  format($$values (%L, 0::bigint, null::timestamptz)$$, :'entry_xmin'),
  'a hit does not update the entry row (no row lock on the hot path)');
select is(public.cache_lookup(:company_b, :k1, 'chat') ->> 'status', 'miss', 'another company does not see the entry');
select is(public.cache_lookup(null, :k1, 'chat') ->> 'status', 'miss', 'the global scope does not see a company entry');

-- Max age ---------------------------------------------------------------------------------------------
reset role;
update public.ai_cache set created_at = now() - interval '120 seconds' where company_id = :company_a and cache_key = :k1;
select tests.authenticate_as_service_role();
select results_eq(format($$select r->>'status', (r->'stale'->>'id')::bigint, (r->'stale'->>'expired')::boolean, (r->'stale'->>'age_seconds')::int
                          from public.cache_lookup(%L, %L, 'chat', 60) r$$, :company_a, :k1),
  format($$values ('miss', %s::bigint, false, 120)$$, :'store'::jsonb ->> 'id'),
  'an entry older than max-age is a miss, returned as stale (not expired)');
select results_eq(format($$select r->>'status', (r->>'age_seconds')::int from public.cache_lookup(%L, %L, 'chat', 300) r$$, :company_a, :k1),
  $$values ('hit', 120)$$, 'an entry younger than max-age is a hit, with its age');
select is(public.cache_lookup(:company_a, :k1, 'chat', 120) ->> 'status', 'hit', 'age equal to max-age is accepted');

-- Expired: stale --------------------------------------------------------------------------------------
reset role;
update public.ai_cache set expires_at = now() - interval '1 second' where company_id = :company_a and cache_key = :k1;
select tests.authenticate_as_service_role();
select results_eq(format($$select r->>'status', (r->'stale'->>'expired')::boolean, r->'stale'->'cached_result', r->>'lease'
                          from public.cache_lookup(%L, %L, 'chat', null, 'worker-9') r$$, :company_a, :k1),
  $$values ('miss', true, '{"message":{"role":"assistant","content":"hello"}}'::jsonb, 'acquired')$$,
  'an expired entry is a miss that returns the stale answer (stale-if-error) and takes the lease');

-- Store again: upsert ---------------------------------------------------------------------------------
select public.cache_store(:company_a, :k1, 'chat', 'gpt-4o', null, '{"message":{"role":"assistant","content":"hello again"}}',
                          10, 20, 0.0005, 60, 2::smallint, 'worker-9') as restore \gset
select is((:'restore'::jsonb ->> 'id')::bigint, (:'store'::jsonb ->> 'id')::bigint, 'storing an existing key keeps the entry id');
select results_eq(format($$select count(*)::int, min(model), min(cached_result::text), min(created_at), min(expires_at),
                                 min(key_version), bool_and(request is null), min(total_tokens), min(cost_usd)
                          from public.ai_cache where company_id = %L and cache_key = %L$$, :company_a, :k1),
  $$values (1, 'gpt-4o', '{"message": {"role": "assistant", "content": "hello again"}}', now(), now() + interval '60 seconds',
            2::smallint, true, 30, 0.0005)$$,
  'the upsert replaces result, model, request, tokens, cost, key version and resets created_at/expires_at');
select is(public.cache_lookup(:company_a, :k1, 'chat') ->> 'status', 'hit', 'the refreshed entry is a hit again');
select public.cache_store(null, :k1, 'suggestions', 'gpt-4o-mini', null, '{"global":true}', 1, 1, 0, 60) as global_store \gset
select isnt((:'global_store'::jsonb ->> 'id')::bigint, (:'store'::jsonb ->> 'id')::bigint,
  'the same key in the global scope is a separate entry');
select is(public.cache_lookup(null, :k1, 'suggestions') -> 'cached_result', '{"global":true}'::jsonb,
  'a global lookup returns the global entry');

-- Peek ------------------------------------------------------------------------------------------------
select count(*) as events_before from private.ai_cache_events \gset
select results_eq(format($$select r->>'status', (r->>'id')::bigint, r->'cached_result' from public.cache_peek(%L, %L) r$$, :company_a, :k1),
  format($$values ('hit', %s::bigint, '{"message":{"role":"assistant","content":"hello again"}}'::jsonb)$$, :'store'::jsonb ->> 'id'),
  'cache_peek returns a fresh entry');
select is(public.cache_peek(:company_a, :k2), null, 'cache_peek returns null when there is no entry');
select is(public.cache_peek(:company_b, :k1), null, 'cache_peek respects the scope');
select is((select count(*) from private.ai_cache_events), :events_before::bigint, 'cache_peek records nothing');
reset role;
update public.ai_cache set created_at = now() - interval '10 seconds' where company_id = :company_a and cache_key = :k1;
select tests.authenticate_as_service_role();
select is(public.cache_peek(:company_a, :k1, 5), null, 'cache_peek honours max-age');
reset role;
update public.ai_cache set expires_at = now() - interval '1 second' where company_id = :company_a and cache_key = :k1;
select tests.authenticate_as_service_role();
select is(public.cache_peek(:company_a, :k1), null, 'cache_peek ignores expired entries');

-- Release ---------------------------------------------------------------------------------------------
select public.cache_lookup(:company_a, :k3, 'suggestions', null, 'worker-5');
select public.cache_release_lease(:company_a, :k3, 'someone-else');
select is((select count(*)::int from private.ai_cache_leases where company_id = :company_a and cache_key = :k3), 1,
  'a non-owner cannot release the lease');
select public.cache_release_lease(:company_a, :k3, 'worker-5', true);
select is((select count(*)::int from private.ai_cache_leases where company_id = :company_a and cache_key = :k3), 0,
  'the owner releases the lease');
select results_eq(format($$select cache_type, cache_id from private.ai_cache_events where company_id = %L and kind = 'upstream_error'$$, :company_a),
  $$values ('suggestions', null::bigint)$$, 'p_error records an upstream_error with the lease''s cache type');
select public.cache_release_lease(:company_a, :k1, 'nobody', true);
select public.cache_release_lease(:company_a, :k2, 'nobody', true, 'document_analysis');
select public.cache_release_lease(:company_b, :k2, 'nobody', true);
select results_eq(format($$select company_id, cache_type from private.ai_cache_events
                          where company_id in (%L, %L) and kind = 'upstream_error' order by id$$, :company_a, :company_b),
  format($$values (%L::uuid, 'suggestions'), (%L::uuid, 'chat'), (%L::uuid, 'document_analysis'), (%L::uuid, 'unknown')$$,
         :company_a, :company_a, :company_a, :company_b),
  'without a lease the error takes p_cache_type, else the stored entry''s type, else ''unknown''');

-- increment_cache_hit_count -------------------------------------------------------------------------------
select is(public.increment_cache_hit_count(-1), 0, 'counting a hit on a missing entry records nothing');
select is(public.increment_cache_hit_count((:'store'::jsonb ->> 'id')::bigint), 1, 'counting a hit on an entry returns 1');
select is((select count(*)::int from private.ai_cache_events where company_id = :company_a and kind = 'hit'), 5,
  'and records a hit event (no update of the entry)');

select * from finish();
rollback;
