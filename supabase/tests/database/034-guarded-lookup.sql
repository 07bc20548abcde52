-- cache_lookup_guarded: the rate limit, the membership check and the lookup of one request in
-- one round trip, with the limiter's refusal first and a non-member never reaching the cache.
begin;
select plan(16);

\set company_a '''a3400000-0000-4000-8000-00000000000a'''
\set company_b '''b3400000-0000-4000-8000-00000000000b'''
\set key_a '''a340000000000000000000000000000000000000000000000000000000000001'''
\set key_g '''9340000000000000000000000000000000000000000000000000000000000001'''

select tests.create_supabase_user('g_alice') as alice \gset
select tests.create_supabase_user('g_mallory') as mallory \gset
insert into public.company_members (company_id, user_id, role) values
  (:company_a, :'alice', 'member'),
  (:company_b, :'mallory', 'owner');
insert into public.ai_cache (company_id, cache_key, cache_type, model, cached_result, expires_at) values
  (:company_a, :key_a, 'suggestions', 'gpt-4o-mini', '{"explication": "A-ONLY"}', now() + interval '1 hour'),
  (null, :key_g, 'suggestions', 'gpt-4o-mini', '{"explication": "GLOBAL"}', now() + interval '1 hour');

-- Only the service role ----------------------------------------------------------------------------------
select tests.authenticate_as('g_alice');
select throws_ok(format($$select public.cache_lookup_guarded(%L, null, %L, null)$$, :company_a, :'alice'),
  '42501', null, 'a user cannot call cache_lookup_guarded');
reset role;
set local role anon;
select throws_ok($$select public.cache_lookup_guarded(null, null, null, null)$$, '42501', null, 'nor can anon');
reset role;

select tests.authenticate_as_service_role();

-- An anonymous hit: a token taken and the entry served, in one call ------------------------------------
select is(
  (select r ->> 'status' || '/' || (r -> 'lookup' ->> 'status') || '/' || (r -> 'lookup' -> 'cached_result' ->> 'explication')
     || '/' || (r -> 'rate_limit' ->> 'remaining')
   from public.cache_lookup_guarded(null,
          '{"bucket": "test:guard:ip:1", "capacity": 2, "refill_per_second": 0.001}',
          null,
          jsonb_build_object('company_id', null, 'cache_key', :key_g, 'cache_type', 'suggestions')) r),
  'ok/hit/GLOBAL/1', 'an anonymous caller gets the hit and the bucket''s state in one call');
select is((select count(*)::int from private.ai_cache_events where cache_type = 'suggestions' and kind = 'hit'
             and company_id is null), 1, 'the hit is counted once');

-- The limiter first: a refusal looks nothing up, and is kept ------------------------------------------
select public.cache_lookup_guarded(null, '{"bucket": "test:guard:ip:1", "capacity": 2, "refill_per_second": 0.001}', null, null);
select is(
  (select r ->> 'status' || '/' || coalesce(r ->> 'lookup', 'none') || '/' || (r -> 'rate_limit' ->> 'allowed')
   from public.cache_lookup_guarded(null,
          '{"bucket": "test:guard:ip:1", "capacity": 2, "refill_per_second": 0.001}',
          null,
          jsonb_build_object('company_id', null, 'cache_key', :key_g, 'cache_type', 'suggestions')) r),
  'rate_limited/none/false', 'an empty bucket answers rate_limited without a lookup');
select ok((select (r -> 'rate_limit' ->> 'retry_after_seconds')::numeric > 0
           from public.cache_lookup_guarded(null, '{"bucket": "test:guard:ip:1", "capacity": 2, "refill_per_second": 0.001}',
                                            null, null) r),
  'with how long to wait');
select is((select count(*)::int from private.ai_cache_events where cache_type = 'suggestions' and company_id is null), 1,
  'a refused request records no event');

-- Membership: a non-member never reaches the company's cache -----------------------------------------
select is(
  (select r ->> 'status' || '/' || coalesce(r ->> 'lookup', 'none')
   from public.cache_lookup_guarded(:company_a,
          '{"bucket": "test:guard:user:mallory", "capacity": 5, "refill_per_second": 1}',
          :'mallory',
          jsonb_build_object('company_id', :company_a, 'cache_key', :key_a, 'cache_type', 'suggestions',
                             'lease_owner', 'mallory-lease')) r),
  'forbidden/none', 'a user of another company is forbidden, with no lookup');
select is((select count(*)::int from private.ai_cache_events where company_id = :company_a), 0,
  'nothing was counted in A');
select is((select count(*)::int from private.ai_cache_leases where company_id = :company_a), 0,
  'and no lease was taken in A');
select is((select floor(tokens)::int from private.rate_limit_buckets where bucket = 'test:guard:user:mallory'), 4,
  'the forbidden probe still cost its token');
select is(
  (select r ->> 'status' || '/' || (r -> 'lookup' -> 'cached_result' ->> 'explication')
   from public.cache_lookup_guarded(:company_a, '{"bucket": "test:guard:user:alice", "capacity": 5, "refill_per_second": 1}',
          :'alice', jsonb_build_object('company_id', :company_a, 'cache_key', :key_a, 'cache_type', 'suggestions')) r),
  'ok/A-ONLY', 'a member gets the company''s entry');

-- Guard only (no-cache), miss with lease, and bad arguments -------------------------------------------
select is(
  (select r ->> 'status' || '/' || coalesce(r ->> 'lookup', 'none')
   from public.cache_lookup_guarded(:company_a, null, :'alice', null) r),
  'ok/none', 'without lookup arguments it only checks (no-cache)');
select is(
  (select r -> 'lookup' ->> 'status' || '/' || (r -> 'lookup' ->> 'lease')
   from public.cache_lookup_guarded(null, null, null,
          jsonb_build_object('company_id', null, 'cache_key', repeat('e', 64), 'cache_type', 'suggestions',
                             'lease_owner', 'leader-1', 'lease_ms', 5000)) r),
  'miss/acquired', 'a miss takes the single-flight lease as cache_lookup does');
select throws_ok(format($$select public.cache_lookup_guarded(%L, null, null,
                          jsonb_build_object('company_id', %L, 'cache_key', %L, 'cache_type', 'suggestions'))$$,
                        :company_a, :company_b, :key_a),
  '42501', null, 'lookup arguments for another scope than p_company_id are refused');
select throws_ok($$select public.cache_lookup_guarded(null, '{"bucket": "", "capacity": 1, "refill_per_second": 1}', null, null)$$,
  '22023', null, 'a bad rate limit is 22023, as rate_limit_take raises it');

select * from finish();
rollback;
