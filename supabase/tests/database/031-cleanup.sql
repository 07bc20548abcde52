-- cleanup_expired_cache(): counts, expiry boundary, batches, leases, events, privileges.
--
-- Cleanup is global: other data in the database (integration tests, a running stack) is
-- deleted too inside this transaction (and restored by the rollback). REPEATABLE READ fixes
-- the snapshot so the expected counts are exact: this file's rows + the expired rows that
-- were already there (baseline). The session-level advisory lock keeps pg_cron's fold out.
select pg_advisory_lock(hashtext('private.rollup_cache_events'));
begin isolation level repeatable read;
select plan(21);

\set company_a '''a0000000-0000-4000-8000-00000000000a'''
select count(*) as base_expired from public.ai_cache where expires_at <= now() \gset

-- 7 expired entries (one exactly at now()), 3 fresh ones, across scopes and types.
insert into public.ai_cache (company_id, cache_key, cache_type, model, cached_result, created_at, expires_at)
select case when i % 2 = 0 then :company_a::uuid end,
       encode(extensions.digest('expired-' || i, 'sha256'), 'hex'),
       case when i % 3 = 0 then 'suggestions' else 'chat' end,
       'gpt-4o-mini', jsonb_build_object('t', 'cleanup-test', 'i', i),
       now() - interval '2 days',
       case when i = 7 then now() else now() - make_interval(hours => i) end
from generate_series(1, 7) i;
insert into public.ai_cache (company_id, cache_key, cache_type, model, cached_result, expires_at)
select :company_a, encode(extensions.digest('fresh-' || i, 'sha256'), 'hex'), 'chat', 'gpt-4o-mini',
       jsonb_build_object('t', 'cleanup-test', 'i', i), now() + make_interval(secs => i)
from generate_series(1, 3) i;

-- Leases: one expired, one live. Events: three pending.
insert into private.ai_cache_leases (company_id, cache_key, cache_type, owner, expires_at) values
  (:company_a, repeat('e', 64), 'chat', 'crashed-worker', now() - interval '1 second'),
  (:company_a, repeat('f', 64), 'chat', 'live-worker', now() + interval '30 seconds');
insert into private.ai_cache_events (company_id, cache_type, kind, tokens, cost_usd) values
  (:company_a, 'chat', 'hit', 10, 0.001), (:company_a, 'chat', 'miss', 0, 0), (null, 'chat', 'hit', 5, 0.0005);

-- Privileges -----------------------------------------------------------------------------------------
select tests.clear_authentication();
select throws_ok($$select public.cleanup_expired_cache()$$, '42501', null, 'anon cannot run cleanup');
reset role;
select tests.create_supabase_user('owner_a') as owner_a \gset
insert into public.company_members (company_id, user_id, role) values (:company_a, :'owner_a', 'owner');
select tests.authenticate_as('owner_a');
select throws_ok($$select public.cleanup_expired_cache()$$, '42501', null, 'even a company owner cannot run cleanup');
reset role;

-- Run, in batches of 2, as the service role --------------------------------------------------------------
select tests.authenticate_as_service_role();
select throws_ok($$select public.cleanup_expired_cache(0)$$, '22023', null, 'the batch size must be positive');
select is(public.cleanup_expired_cache(2), 7 + :base_expired,
  'cleanup returns the number of expired entries deleted (this file''s 7 + those already there, batches of 2)');
select is((select count(*)::int from public.ai_cache where cached_result ->> 't' = 'cleanup-test'), 3,
  'only the 3 fresh entries of this file remain');
select is((select count(*)::int from public.ai_cache where expires_at <= now()), 0, 'no expired entry remains');
select is((select count(*)::int from public.ai_cache where cached_result ->> 't' = 'cleanup-test' and expires_at > now()), 3,
  'no fresh entry was deleted');
select is((select count(*)::int from public.ai_cache where expires_at = now()), 0,
  'an entry expiring exactly now is expired (expires_at <= now())');
select results_eq($$select owner from private.ai_cache_leases where cache_key in (repeat('e', 64), repeat('f', 64))$$,
  $$values ('live-worker')$$, 'expired leases are dropped, live ones kept');
select is((select count(*)::int from private.ai_cache_leases where expires_at <= now()), 0, 'no expired lease remains');
select is((select count(*)::int from private.ai_cache_events), 0, 'pending events are folded first');
select results_eq(format($$select hits, misses, tokens_saved from public.ai_cache_stats_daily where company_id = %L$$, :company_a),
  $$values (1::bigint, 1::bigint, 10::bigint)$$, 'the folded events are in the daily table');
select is(public.cleanup_expired_cache(), 0, 'a second run finds nothing');

-- Exact multiples of the batch size and large volumes ---------------------------------------------------
reset role;
insert into public.ai_cache (company_id, cache_key, cache_type, model, cached_result, expires_at)
select null, encode(extensions.digest('batch-' || i, 'sha256'), 'hex'), 'chat', 'm', '{}', now() - interval '1 minute'
from generate_series(1, 4) i;
select tests.authenticate_as_service_role();
select is(public.cleanup_expired_cache(2), 4, 'a count that is an exact multiple of the batch size');
reset role;
insert into public.ai_cache (company_id, cache_key, cache_type, model, cached_result, expires_at)
select null, encode(extensions.digest('bulk-' || i, 'sha256'), 'hex'), 'chat', 'm', '{}',
       now() - make_interval(secs => (i % 97) + 1)
from generate_series(1, 2500) i;
select tests.authenticate_as_service_role();
select is(public.cleanup_expired_cache(100), 2500, '2500 expired entries in batches of 100');
select is(public.cleanup_expired_cache(100000), 0, 'nothing left afterwards');
select is((select count(*)::int from public.ai_cache where cached_result ->> 't' = 'cleanup-test'), 3,
  'the fresh entries are still there');

-- Expiry respected: an entry refreshed by cache_store is not deleted -----------------------------------------
reset role;
insert into public.ai_cache (company_id, cache_key, cache_type, model, cached_result, expires_at)
values (:company_a, repeat('9', 64), 'chat', 'm', '{"v":1}', now() - interval '1 minute');
select tests.authenticate_as_service_role();
select public.cache_store(:company_a, repeat('9', 64), 'chat', 'm', null, '{"v":2}', 1, 1, 0, 60);
select is(public.cleanup_expired_cache(), 0, 'an entry re-stored after expiry is fresh again and kept');
select is((select cached_result from public.ai_cache where cache_key = repeat('9', 64)), '{"v":2}'::jsonb,
  'with its new result');

-- As the cron job runs it (postgres, default batch size) ---------------------------------------------------
reset role;
insert into public.ai_cache (company_id, cache_key, cache_type, model, cached_result, expires_at)
values (null, repeat('8', 64), 'chat', 'm', '{"t":"cleanup-test"}', now() - interval '1 minute');
select is(public.cleanup_expired_cache(), 1, 'postgres (the cron job''s role) runs cleanup with the default batch size');
select is((select count(*)::int from public.ai_cache where cached_result ->> 't' = 'cleanup-test'), 3,
  'and only the expired entry went');

select * from finish();
rollback;
select pg_advisory_unlock(hashtext('private.rollup_cache_events'));
