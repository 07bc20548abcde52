-- Dashboard RPCs: get_dashboard_companies, get_cache_dashboard and purge_company_cache, acting
-- as real users: admins of their own company only, never members, other companies or anon.
begin;
select plan(22);

\set company_a '''a0000000-0000-4000-8000-0000000000d1'''
\set company_b '''b0000000-0000-4000-8000-0000000000d2'''
select tests.create_supabase_user('dash_admin_a') as admin_a \gset
select tests.create_supabase_user('dash_member_a') as member_a \gset
select tests.create_supabase_user('dash_admin_b') as admin_b \gset

insert into public.company_members (company_id, user_id, role) values
  (:company_a, :'admin_a', 'admin'),
  (:company_b, :'admin_a', 'member'),
  (:company_a, :'member_a', 'member'),
  (:company_b, :'admin_b', 'owner');

insert into public.ai_cache (company_id, cache_key, cache_type, model, cached_result, prompt_tokens, completion_tokens, cost_usd, hit_count, expires_at) values
  (:company_a, repeat('d', 63) || '1', 'chat', 'gpt-4o-mini', '{"answer":"secret a1"}', 10, 5, 0.001, 3, now() + interval '1 hour'),
  (:company_a, repeat('d', 63) || '2', 'suggestions', 'gpt-4o', '{"answer":"secret a2"}', 20, 10, 0.01, 1, now() - interval '1 minute'),
  (:company_a, repeat('d', 63) || '3', 'chat', 'gpt-4o', '{"answer":"secret a3"}', 1, 1, 0, 0, now() + interval '1 hour'),
  (:company_b, repeat('d', 63) || '4', 'chat', 'gpt-4o-mini', '{"answer":"secret b1"}', 1, 1, 0, 0, now() + interval '1 hour');
insert into public.ai_cache_stats_daily (day, company_id, cache_type, hits, misses, cost_saved_usd) values
  ((now() at time zone 'UTC')::date, :company_a, 'chat', 4, 2, 0.004),
  ((now() at time zone 'UTC')::date - 40, :company_a, 'chat', 100, 100, 1);

-- admin of A ------------------------------------------------------------------------------
select tests.authenticate_as('dash_admin_a');
select is(
  (select pg_catalog.jsonb_agg(c ->> 'company_id' order by c ->> 'company_id') from pg_catalog.jsonb_array_elements(public.get_dashboard_companies()) c),
  pg_catalog.jsonb_build_array(:company_a, :company_b),
  'an admin lists every company they belong to');
select is((public.get_dashboard_companies() -> 0 ->> 'is_admin')::boolean, true, 'admin companies come first, marked is_admin');

select is(pg_catalog.jsonb_array_length(public.get_cache_dashboard(:company_a) -> 'daily'), 30, 'the trend has one row per day of the last 30');
select is((public.get_cache_dashboard(:company_a) -> 'daily' -> 29 ->> 'hits')::int, 4, 'today''s hits in the trend');
select is((select pg_catalog.sum((d ->> 'hits')::int) from pg_catalog.jsonb_array_elements(public.get_cache_dashboard(:company_a) -> 'daily') d)::int,
  4, 'days older than 30 are not in the trend');
select is((public.get_cache_dashboard(:company_a) -> 'top_entries' -> 0 ->> 'uses')::int, 4, 'most reused entry first, uses = hits + 1');
select is((public.get_cache_dashboard(:company_a) -> 'top_entries' -> 0 ->> 'total_tokens')::int, 15, 'top entries carry their tokens');
select ok(not (public.get_cache_dashboard(:company_a)::text like '%secret%'), 'no prompt or answer text in the dashboard document');
select is(pg_catalog.jsonb_array_length(public.get_cache_dashboard(:company_a) -> 'top_entries'), 3, 'only the company''s own entries');
select is(
  (select pg_catalog.jsonb_object_agg(m ->> 'model', (m ->> 'entries')::int) from pg_catalog.jsonb_array_elements(public.get_cache_dashboard(:company_a) -> 'by_model') m),
  '{"gpt-4o": 2, "gpt-4o-mini": 1}'::jsonb, 'entries per model');
select throws_ok(format('select public.get_cache_dashboard(%L)', :company_b), '42501', null, 'a member of B (not admin) cannot read B''s dashboard');
select throws_ok(format('select public.get_cache_dashboard(%L, 0)', :company_a), '22023', null, 'bad p_days is 22023');

select throws_ok(format('select public.purge_company_cache(%L)', :company_a), '22023', null, 'a purge needs a cache type or a model');
select is(public.purge_company_cache(:company_a, p_model => 'gpt-4o'), 2::bigint, 'an admin purges their company''s entries of one model');
select is((public.get_cache_stats(:company_a) ->> 'entries')::int, 1, 'get_cache_stats sees the purge');
select is((public.get_cache_stats(:company_a) ->> 'hits')::int, 104, 'statistics (all-time) are kept after a purge');
select throws_ok(format('select public.purge_company_cache(%L, %L)', :company_b, 'chat'), '42501', null, 'a member cannot purge');

-- member of A ------------------------------------------------------------------------------
reset role;
select tests.authenticate_as('dash_member_a');
select throws_ok(format('select public.get_cache_dashboard(%L)', :company_a), '42501', null, 'a plain member cannot read the dashboard');
select throws_ok(format('select public.purge_company_cache(%L, %L)', :company_a, 'chat'), '42501', null, 'a plain member cannot purge');

-- anon ---------------------------------------------------------------------------------------
reset role;
select tests.clear_authentication();
select throws_ok(format('select public.purge_company_cache(%L, %L)', :company_a, 'chat'), '42501', null, 'anon cannot purge');
select throws_ok('select public.get_dashboard_companies()', '42501', null, 'anon cannot list companies');

reset role;
select is((select pg_catalog.count(*)::int from public.ai_cache where company_id = :company_b), 1, 'the other company''s entries are untouched');

select * from finish();
rollback;
