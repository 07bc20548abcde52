-- ai_cache, ai_cache_stats_daily and the private tables: who reads and writes what.
begin;
select plan(33);

\set company_a '''a0000000-0000-4000-8000-00000000000a'''
\set company_b '''b0000000-0000-4000-8000-00000000000b'''
select tests.create_supabase_user('owner_a') as owner_a \gset
select tests.create_supabase_user('admin_a') as admin_a \gset
select tests.create_supabase_user('member_a') as member_a \gset
select tests.create_supabase_user('admin_b') as admin_b \gset
select tests.create_supabase_user('outsider') as outsider \gset

insert into public.company_members (company_id, user_id, role) values
  (:company_a, :'owner_a', 'owner'),
  (:company_a, :'admin_a', 'admin'),
  (:company_a, :'member_a', 'member'),
  (:company_b, :'admin_b', 'admin');

-- Two entries for A, one for B, one global.
insert into public.ai_cache (company_id, cache_key, cache_type, model, cached_result, expires_at) values
  (:company_a, repeat('1', 64), 'chat', 'gpt-4o-mini', '{"answer":"a1"}', now() + interval '1 hour'),
  (:company_a, repeat('2', 64), 'suggestions', 'gpt-4o-mini', '{"answer":"a2"}', now() + interval '1 hour'),
  (:company_b, repeat('3', 64), 'chat', 'gpt-4o-mini', '{"answer":"b1"}', now() + interval '1 hour'),
  (null, encode(extensions.digest('011-global', 'sha256'), 'hex'), 'suggestions', 'gpt-4o-mini', '{"answer":"global"}', now() + interval '1 hour');

insert into public.ai_cache_stats_daily (day, company_id, cache_type, hits) values
  (current_date, :company_a, 'chat', 5),
  (current_date, :company_b, 'chat', 7),
  (date '2000-01-01', null, 'suggestions', 9);  -- a day no real traffic folds into

-- anon ---------------------------------------------------------------------------------------
select tests.clear_authentication();
select throws_ok($$select count(*) from public.ai_cache$$, '42501', null, 'anon cannot read ai_cache');
select throws_ok($$insert into public.ai_cache (cache_key, cache_type, model, cached_result, expires_at)
                   values (repeat('5', 64), 'chat', 'm', '{}', now() + interval '1 hour')$$,
  '42501', null, 'anon cannot write ai_cache');
select throws_ok($$select count(*) from public.ai_cache_stats_daily$$, '42501', null, 'anon cannot read daily stats');

-- plain member of A --------------------------------------------------------------------------
reset role;
select tests.authenticate_as('member_a');
select is((select count(*)::int from public.ai_cache), 0, 'a plain member reads no cache entry');
select is((select count(*)::int from public.ai_cache_stats_daily), 0, 'a plain member reads no stats');
select throws_ok($$insert into public.ai_cache (company_id, cache_key, cache_type, model, cached_result, expires_at)
                   values ('a0000000-0000-4000-8000-00000000000a', repeat('5', 64), 'chat', 'm', '{}', now() + interval '1 hour')$$,
  '42501', null, 'a member cannot insert cache entries');

-- admin of A -------------------------------------------------------------------------------
reset role;
select tests.authenticate_as('admin_a');
select results_eq($$select cache_type from public.ai_cache order by cache_type$$,
  $$values ('chat'::text), ('suggestions'::text)$$,
  'an admin reads exactly their company''s entries (not B''s, not global)');
select is((select count(*)::int from public.ai_cache where company_id is null), 0, 'an admin never reads global entries');
select results_eq($$select hits from public.ai_cache_stats_daily$$, $$values (5::bigint)$$,
  'an admin reads exactly their company''s daily stats');
select throws_ok($$insert into public.ai_cache (company_id, cache_key, cache_type, model, cached_result, expires_at)
                   values ('a0000000-0000-4000-8000-00000000000a', repeat('5', 64), 'chat', 'm', '{}', now() + interval '1 hour')$$,
  '42501', null, 'an admin cannot insert cache entries');
select throws_ok($$update public.ai_cache set cached_result = '{"answer":"poisoned"}'$$,
  '42501', null, 'an admin cannot update cache entries');
select throws_ok($$delete from public.ai_cache$$, '42501', null, 'an admin cannot delete cache entries');
select throws_ok($$update public.ai_cache_stats_daily set hits = 0$$, '42501', null, 'an admin cannot rewrite stats');
select throws_ok($$select count(*) from private.ai_cache_events$$, '42501', null,
  'an admin cannot read the private events table');
select throws_ok($$insert into private.ai_cache_events (cache_type, kind) values ('chat', 'hit')$$, '42501', null,
  'an admin cannot forge events');
select throws_ok($$select count(*) from private.ai_cache_leases$$, '42501', null,
  'an admin cannot read the private leases table');

-- owner of A -------------------------------------------------------------------------------
reset role;
select tests.authenticate_as('owner_a');
select is((select count(*)::int from public.ai_cache), 2, 'an owner reads their company''s 2 entries');
select throws_ok($$delete from public.ai_cache$$, '42501', null, 'an owner cannot delete cache entries');

-- admin of B, outsider -----------------------------------------------------------------------
reset role;
select tests.authenticate_as('admin_b');
select results_eq($$select company_id from public.ai_cache$$, $$values ('b0000000-0000-4000-8000-00000000000b'::uuid)$$,
  'the admin of B reads only B''s entry');
select results_eq($$select hits from public.ai_cache_stats_daily$$, $$values (7::bigint)$$,
  'the admin of B reads only B''s stats');
select is((select count(*)::int from public.ai_cache where company_id = 'a0000000-0000-4000-8000-00000000000a'), 0,
  'filtering on another company''s id returns nothing');
reset role;
select tests.authenticate_as('outsider');
select is((select count(*)::int from public.ai_cache), 0, 'an outsider reads no entry');
select is((select count(*)::int from public.ai_cache_stats_daily), 0, 'an outsider reads no stats');

-- an admin who loses the role loses access -----------------------------------------------------
reset role;
update public.company_members set role = 'member' where user_id = :'admin_a';
select tests.authenticate_as('admin_a');
select is((select count(*)::int from public.ai_cache), 0, 'a demoted admin no longer reads entries');

-- service role -------------------------------------------------------------------------------
reset role;
select tests.authenticate_as_service_role();
select is((select count(*)::int from public.ai_cache
           where company_id in (:company_a, :company_b)
              or (company_id is null and cache_key = encode(extensions.digest('011-global', 'sha256'), 'hex'))), 4,
  'the service role reads every entry, global included');
select is((select count(*)::int from public.ai_cache_stats_daily
           where (day = current_date and hits in (5, 7) and company_id in (:company_a, :company_b))
              or (day = date '2000-01-01' and hits = 9 and company_id is null)), 3,
  'the service role reads every stats row, global included');
select lives_ok($$insert into public.ai_cache (company_id, cache_key, cache_type, model, cached_result, expires_at)
                  values ('a0000000-0000-4000-8000-00000000000a', repeat('5', 64), 'chat', 'm', '{}', now() + interval '1 hour')$$,
  'the service role inserts entries');
select lives_ok($$update public.ai_cache set model = 'gpt-4o' where company_id = 'a0000000-0000-4000-8000-00000000000a' and cache_key = repeat('5', 64)$$,
  'the service role updates entries');
select is((select model from public.ai_cache where company_id = :company_a and cache_key = repeat('5', 64)), 'gpt-4o', 'the update took effect');
select lives_ok($$delete from public.ai_cache where company_id = 'a0000000-0000-4000-8000-00000000000a' and cache_key = repeat('5', 64)$$, 'the service role deletes entries');
select is((select count(*)::int from public.ai_cache where company_id = :company_a and cache_key = repeat('5', 64)), 0, 'the delete took effect');
select lives_ok($$insert into private.ai_cache_events (cache_type, kind) values ('chat', 'miss')$$,
  'the service role appends events');
select lives_ok($$select count(*) from private.ai_cache_leases$$, 'the service role reads leases');

select * from finish();
rollback;
