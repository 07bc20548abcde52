-- Single-flight for slow answers (cache_renew_lease) and unstored spend (cache_record_spend).
begin;
select plan(22);

\set company_a '''a3300000-0000-4000-8000-00000000000a'''
\set k1 '''0331111111111111111111111111111111111111111111111111111111111111'''
\set k2 '''0332222222222222222222222222222222222222222222222222222222222222'''

-- Privileges ------------------------------------------------------------------------------------------
select tests.create_supabase_user('admin_33') as admin_33 \gset
insert into public.company_members (company_id, user_id, role) values (:company_a, :'admin_33', 'admin');
select tests.clear_authentication();
select throws_ok(format($$select public.cache_renew_lease(%L, %L, 'w', 1000)$$, :company_a, :k1), '42501', null,
  'anon cannot call cache_renew_lease');
select throws_ok(format($$select public.cache_record_spend(%L, 'chat', 1, 1, 0)$$, :company_a), '42501', null,
  'anon cannot call cache_record_spend');
reset role;
select tests.authenticate_as('admin_33');
select throws_ok(format($$select public.cache_renew_lease(%L, %L, 'w', 1000)$$, :company_a, :k1), '42501', null,
  'a company admin cannot call cache_renew_lease (service role only)');
select throws_ok(format($$select public.cache_record_spend(%L, 'chat', 1, 1, 0)$$, :company_a), '42501', null,
  'a company admin cannot call cache_record_spend');
reset role;

select tests.authenticate_as_service_role();

-- Renewal ---------------------------------------------------------------------------------------------
select is(public.cache_lookup(:company_a, :k1, 'chat', null, 'leader', 1000) ->> 'lease', 'acquired',
  'the leader takes a 1 s lease');
select is(public.cache_renew_lease(:company_a, :k1, 'leader', 60000), now() + interval '60 seconds',
  'the leader renews it: the new expiry is now + p_lease_ms');
select is(public.cache_renew_lease(:company_a, :k1, 'someone-else', 60000), null,
  'a caller that does not own the lease renews nothing');
select is(public.cache_renew_lease(:company_a, :k2, 'leader', 60000), null,
  'renewing a lease that does not exist returns null');
select is(public.cache_renew_lease(null, :k1, 'leader', 60000), null,
  'the same key in the global scope is another lease');
select throws_ok(format($$select public.cache_renew_lease(%L, %L, 'leader', 0)$$, :company_a, :k1), '22023', null,
  'p_lease_ms must be positive');
select throws_ok(format($$select public.cache_renew_lease(%L, null, 'leader', 1000)$$, :company_a), '22023', null,
  'p_cache_key is required');

-- A follower keeps waiting while the lease is renewed, and takes over once it is not.
reset role;
-- Time passes beyond the first lease length (1 s): only the renewal keeps it alive.
update private.ai_cache_leases set acquired_at = acquired_at - interval '5 seconds'
where company_id = :company_a and cache_key = :k1;
select tests.authenticate_as_service_role();
select is(public.cache_poll(:company_a, :k1, 'chat', null, 'follower', 1000) ->> 'status', 'pending',
  'a follower polling a renewed lease keeps waiting, though the first lease length has passed');
reset role;
-- The leader dies: no more renewals, the lease runs out.
update private.ai_cache_leases set expires_at = now() - interval '1 millisecond'
where company_id = :company_a and cache_key = :k1;
select tests.authenticate_as_service_role();
select is(public.cache_renew_lease(:company_a, :k1, 'leader', 1000), now() + interval '1 second',
  'an owner may still renew its lease right after it expired, while nobody took it over');
reset role;
update private.ai_cache_leases set expires_at = now() - interval '1 millisecond'
where company_id = :company_a and cache_key = :k1;
select tests.authenticate_as_service_role();
select results_eq(format($$select r->>'status', r->>'lease' from public.cache_poll(%L, %L, 'chat', null, 'follower', 1000) r$$, :company_a, :k1),
  $$values ('miss', 'acquired')$$, 'once the lease expired without renewal, a follower takes it over');
select is(public.cache_renew_lease(:company_a, :k1, 'leader', 1000), null,
  'the dead leader cannot renew a lease taken over by a follower');
select is(public.cache_renew_lease(:company_a, :k1, 'follower', 1000), now() + interval '1 second',
  'the new leader renews its own lease');

-- Unstored spend --------------------------------------------------------------------------------------
select results_eq(format($$select r from public.cache_record_spend(%L, 'chat', 40, 2, 0.000123, %L, 'follower') r$$, :company_a, :k1),
  $$values ('{"lease_released": true}'::jsonb)$$, 'recording the spend of an unstored answer releases the caller''s lease');
select is((select count(*)::int from private.ai_cache_leases where company_id = :company_a and cache_key = :k1), 0,
  'the lease is gone: followers take over at once');
select results_eq(format($$select kind, cache_type, cache_id, tokens, cost_usd from private.ai_cache_events where company_id = %L and kind = 'upstream_call'$$, :company_a),
  $$values ('upstream_call', 'chat', null::bigint, 42, 0.000123::numeric)$$,
  'the call is counted as an upstream call with its tokens and cost, without an entry');
select results_eq(format($$select r from public.cache_record_spend(%L, 'chat', 1, 1, 0, %L, 'nobody') r$$, :company_a, :k2),
  $$values ('{"lease_released": false}'::jsonb)$$, 'a lease the caller does not own is left alone');
select throws_ok(format($$select public.cache_record_spend(%L, 'chat', -1, 1, 0)$$, :company_a), '22023', null,
  'negative tokens are refused');
select results_eq(format($$select (r->>'upstream_calls')::int from public.get_cache_stats(%L) r$$, :company_a),
  $$values (2)$$, 'get_cache_stats counts both unstored calls as upstream calls');

select * from finish();
rollback;
