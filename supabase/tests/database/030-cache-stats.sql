-- get_cache_stats(): exact figures on known data, folded or not, and who may call it.
--
-- The database may hold other data (integration tests, a running stack): figures are checked
-- exactly for this file's own companies, and as exact deltas over a baseline for the
-- all-companies document. REPEATABLE READ keeps other sessions' commits out of the picture;
-- the session-level advisory lock keeps the pg_cron fold (same lock) from folding meanwhile.
select pg_advisory_lock(hashtext('private.rollup_cache_events'));
begin isolation level repeatable read;
select plan(29);

\set company_a '''a0000000-0000-4000-8000-00000000000a'''
\set company_b '''b0000000-0000-4000-8000-00000000000b'''
\set k1 '''0301111111111111111111111111111111111111111111111111111111111111'''
\set k2 '''0302222222222222222222222222222222222222222222222222222222222222'''
\set k3 '''0303333333333333333333333333333333333333333333333333333333333333'''
\set k4 '''0304444444444444444444444444444444444444444444444444444444444444'''
\set k5 '''0305555555555555555555555555555555555555555555555555555555555555'''
\set k6 '''0306666666666666666666666666666666666666666666666666666666666666'''
select tests.create_supabase_user('owner_a') as owner_a \gset
select tests.create_supabase_user('admin_a') as admin_a \gset
select tests.create_supabase_user('member_a') as member_a \gset
select tests.create_supabase_user('outsider') as outsider \gset
insert into public.company_members (company_id, user_id, role) values
  (:company_a, :'owner_a', 'owner'), (:company_a, :'admin_a', 'admin'), (:company_a, :'member_a', 'member');

select tests.authenticate_as_service_role();
select public.get_cache_stats() as base_all \gset
reset role;

-- Traffic, as the Edge Functions produce it ------------------------------------------------------
-- Company A: chat k1 (150 tokens, $0.002), chat k2 (200 tokens, $0.004), suggestions k3 (30, $0.0005);
-- 3 lookup hits on k1, 1 counted hit on k2, one more chat miss (k4) whose upstream call failed.
-- Company B: chat k5 (20 tokens, $0.001), 2 hits. Global: suggestions k6 (10 tokens, $0.0001), 1 hit.
select tests.authenticate_as_service_role();
select public.cache_lookup(:company_a, :k1, 'chat');
select public.cache_store(:company_a, :k1, 'chat', 'gpt-4o-mini', '{"q":"k1"}', '{"a":"k1"}', 100, 50, 0.002, 3600);
select public.cache_lookup(:company_a, :k2, 'chat');
select public.cache_store(:company_a, :k2, 'chat', 'gpt-4o-mini', '{"q":"k2"}', '{"a":"k2"}', 150, 50, 0.004, 3600);
select public.cache_lookup(:company_a, :k3, 'suggestions');
select public.cache_store(:company_a, :k3, 'suggestions', 'gpt-4o-mini', null, '{"a":"k3"}', 20, 10, 0.0005, 3600);
select public.cache_lookup(:company_a, :k1, 'chat') from generate_series(1, 3);
select public.increment_cache_hit_count((select id from public.ai_cache where company_id = :company_a and cache_key = :k2));
select public.cache_lookup(:company_a, :k4, 'chat', null, 'worker-1');
select public.cache_release_lease(:company_a, :k4, 'worker-1', true);

select public.cache_lookup(:company_b, :k5, 'chat');
select public.cache_store(:company_b, :k5, 'chat', 'gpt-4o-mini', null, '{"a":"k5"}', 10, 10, 0.001, 3600);
select public.cache_lookup(:company_b, :k5, 'chat') from generate_series(1, 2);

select public.cache_lookup(null, :k6, 'suggestions');
select public.cache_store(null, :k6, 'suggestions', 'gpt-4o-mini', null, '{"a":"k6"}', 5, 5, 0.0001, 3600);
select public.cache_lookup(null, :k6, 'suggestions');

-- Company A, unfolded ------------------------------------------------------------------------------
select results_eq(format($$
  select scope, entries, hits, misses, total_uses, hit_rate, reuse_rate, tokens_saved, cost_saved_usd,
         upstream_calls, upstream_errors, upstream_tokens, upstream_cost_usd
  from jsonb_to_record(public.get_cache_stats(%L)) as s(
    scope text, entries int, hits int, misses int, total_uses int, hit_rate numeric, reuse_rate numeric,
    tokens_saved int, cost_saved_usd numeric, upstream_calls int, upstream_errors int,
    upstream_tokens int, upstream_cost_usd numeric)$$, :company_a),
  $$values ('company', 3, 4, 4, 7, 0.5000, 1.3333, 650, 0.010, 3, 1, 380, 0.0065)$$,
  'company totals are exact before any fold (hit rate 4/8, reuse rate 4/3, tokens and cost per hit)');
select results_eq(format($$
  select cache_type, entries, hits, misses, total_uses, hit_rate, reuse_rate, tokens_saved, cost_saved_usd,
         upstream_calls, upstream_errors
  from jsonb_to_recordset(public.get_cache_stats(%L)->'by_type') as t(
    cache_type text, entries int, hits int, misses int, total_uses int, hit_rate numeric, reuse_rate numeric,
    tokens_saved int, cost_saved_usd numeric, upstream_calls int, upstream_errors int)$$, :company_a),
  $$values ('chat', 2, 4, 3, 6, 0.5714, 2.0000, 650, 0.010, 2, 1),
           ('suggestions', 1, 0, 1, 1, 0, 0, 0, 0, 1, 0)$$,
  'per-type figures are exact (upstream error attributed to the lease''s type)');
select is(public.get_cache_stats(:company_a)->>'company_id', 'a0000000-0000-4000-8000-00000000000a',
  'the document names its company');

-- Everything (service role, null) --------------------------------------------------------------------
select results_eq(format($$
  select s.scope, s.entries - b.entries, s.hits - b.hits, s.misses - b.misses, s.total_uses - b.total_uses,
         s.tokens_saved - b.tokens_saved, s.cost_saved_usd - b.cost_saved_usd, s.upstream_calls - b.upstream_calls
  from jsonb_to_record(public.get_cache_stats()) as s(
         scope text, entries int, hits int, misses int, total_uses int, tokens_saved int, cost_saved_usd numeric, upstream_calls int),
       jsonb_to_record(%L::jsonb) as b(
         entries int, hits int, misses int, total_uses int, tokens_saved int, cost_saved_usd numeric, upstream_calls int)$$, :'base_all'),
  $$values ('all', 5, 7, 6, 12, 700, 0.0121, 5)$$,
  'with p_company_id null the service role gets every company plus the global scope (A + B + global)');
select results_eq(format($$
  select t.cache_type, t.entries - coalesce(b.entries, 0), t.hits - coalesce(b.hits, 0), t.misses - coalesce(b.misses, 0)
  from jsonb_to_recordset(public.get_cache_stats()->'by_type') as t(cache_type text, entries int, hits int, misses int)
  left join jsonb_to_recordset(%L::jsonb->'by_type') as b(cache_type text, entries int, hits int, misses int) using (cache_type)
  where t.cache_type in ('chat', 'suggestions')
  order by t.cache_type$$, :'base_all'),
  $$values ('chat', 3, 6, 4), ('suggestions', 2, 1, 2)$$,
  'all-companies per-type figures');
select ok((select (s->>'hit_rate')::numeric = case when (s->>'hits')::int + (s->>'misses')::int = 0 then 0
                     else round((s->>'hits')::numeric / ((s->>'hits')::int + (s->>'misses')::int), 4) end
              and (s->>'reuse_rate')::numeric = case when (s->>'entries')::int = 0 then 0
                     else round((s->>'hits')::numeric / (s->>'entries')::int, 4) end
           from (select public.get_cache_stats() as s) x),
  'all-companies rates follow the documented formulas');
select is((public.get_cache_stats(:company_b)->>'hits')::int, 2, 'the service role reads any single company');

-- Fold: figures unchanged, entry counters filled -----------------------------------------------------
select cmp_ok(private.rollup_cache_events(), '>=', 19, 'the fold takes every pending event (this file''s 19 at least)');
select is((select count(*)::int from private.ai_cache_events), 0, 'no event is left unfolded');
select results_eq(format($$
  select entries, hits, misses, hit_rate, reuse_rate, tokens_saved, cost_saved_usd, upstream_calls, upstream_errors
  from jsonb_to_record(public.get_cache_stats(%L)) as s(
    entries int, hits int, misses int, hit_rate numeric, reuse_rate numeric, tokens_saved int,
    cost_saved_usd numeric, upstream_calls int, upstream_errors int)$$, :company_a),
  $$values (3, 4, 4, 0.5000, 1.3333, 650, 0.010, 3, 1)$$,
  'company figures are identical once folded');
select results_eq(format($$select hit_count, last_hit_at is not null from public.ai_cache
                          where company_id = %L order by cache_key$$, :company_a),
  $$values (3::bigint, true), (1::bigint, true), (0::bigint, false)$$,
  'the fold writes hit_count/last_hit_at on the entries');
select results_eq(format($$select cache_type, hits, misses, tokens_saved, cost_saved_usd, upstream_calls, upstream_errors
                          from public.ai_cache_stats_daily where company_id = %L order by cache_type$$, :company_a),
  $$values ('chat', 4::bigint, 3::bigint, 650::bigint, 0.010, 2::bigint, 1::bigint),
           ('suggestions', 0::bigint, 1::bigint, 0::bigint, 0, 1::bigint, 0::bigint)$$,
  'the daily table holds the folded counters');

-- Mixed folded + unfolded ----------------------------------------------------------------------------
select public.cache_lookup(:company_a, :k1, 'chat');
select results_eq(format($$
  select hits, misses, tokens_saved, cost_saved_usd
  from jsonb_to_record(public.get_cache_stats(%L)) as s(hits int, misses int, tokens_saved int, cost_saved_usd numeric)$$, :company_a),
  $$values (5, 4, 800, 0.012)$$,
  'folded counters and fresh events add up');
select is(private.rollup_cache_events(), 1, 'a second fold takes only the new event');
select is((select hits from public.ai_cache_stats_daily where company_id = :company_a and cache_type = 'chat'), 5::bigint,
  'a second fold adds to the same daily row');
select is((select hit_count from public.ai_cache where company_id = :company_a and cache_key = :k1), 4::bigint,
  'and to the entry''s hit_count');

-- Stats survive cleanup ----------------------------------------------------------------------------
reset role;
update public.ai_cache set expires_at = now() - interval '1 second' where company_id = :company_a and cache_key = :k1;
select tests.authenticate_as_service_role();
select is((public.get_cache_stats(:company_a)->>'expired_entries')::int, 1, 'an expired entry awaiting cleanup is reported');
select cmp_ok(public.cleanup_expired_cache(), '>=', 1, 'cleanup runs');
select is((select count(*)::int from public.ai_cache where company_id = :company_a and cache_key = :k1), 0,
  'cleanup deleted the expired entry');
select results_eq(format($$
  select entries, expired_entries, hits, tokens_saved, cost_saved_usd, reuse_rate
  from jsonb_to_record(public.get_cache_stats(%L)) as s(entries int, expired_entries int, hits int, tokens_saved int,
                                                          cost_saved_usd numeric, reuse_rate numeric)$$, :company_a),
  $$values (2, 0, 5, 800, 0.012, 2.5000)$$,
  'hits, tokens and cost saved survive the deletion of the entry');

-- Empty scope ----------------------------------------------------------------------------------------
select results_eq($$
  select entries, hits, misses, hit_rate, reuse_rate, jsonb_array_length(by_type)
  from jsonb_to_record(public.get_cache_stats('00000000-0000-4000-8000-000000000000')) as s(
    entries int, hits int, misses int, hit_rate numeric, reuse_rate numeric, by_type jsonb)$$,
  $$values (0, 0, 0, 0::numeric, 0::numeric, 0)$$,
  'a company without traffic gets zeros and no division by zero');

-- Who may call ---------------------------------------------------------------------------------------
reset role;
select tests.authenticate_as('admin_a');
select is((public.get_cache_stats(:company_a)->>'hits')::int, 5, 'an admin reads their company''s stats');
select throws_ok(format($$select public.get_cache_stats(%L)$$, :company_b), '42501', null,
  'an admin cannot read another company''s stats');
select throws_ok($$select public.get_cache_stats()$$, '42501', null,
  'an admin cannot read all companies'' stats (p_company_id null)');
select throws_ok($$select private.cache_stats(null, true)$$, '42501', null,
  'an admin cannot call the unrestricted stats body directly');
reset role;
select tests.authenticate_as('owner_a');
select is((public.get_cache_stats(:company_a)->>'entries')::int, 2, 'an owner reads their company''s stats');
reset role;
select tests.authenticate_as('member_a');
select throws_ok(format($$select public.get_cache_stats(%L)$$, :company_a), '42501',
  'get_cache_stats: only owners and admins of company a0000000-0000-4000-8000-00000000000a may read its cache statistics',
  'a plain member gets a clear 42501 error');
reset role;
select tests.authenticate_as('outsider');
select throws_ok(format($$select public.get_cache_stats(%L)$$, :company_a), '42501', null, 'an outsider gets 42501');
reset role;
select tests.clear_authentication();
select throws_ok(format($$select public.get_cache_stats(%L)$$, :company_a), '42501', null, 'anon cannot call get_cache_stats');

select * from finish();
rollback;
select pg_advisory_unlock(hashtext('private.rollup_cache_events'));
