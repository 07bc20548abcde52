-- Accounting to the micro-cent: costs are stored and summed unrounded (numeric(20,12)), so the
-- savings of many small answers equal the token-priced truth; model calls whose answer is not
-- cached (no-store, refusals) are spend too, counted as upstream calls and labelled uncached.
begin;
-- Hold the fold's lock so a concurrent pg_cron fold cannot make this file's own fold return 0.
select pg_advisory_xact_lock(hashtext('private.rollup_cache_events'));
select plan(19);

\set company_a '''a1800000-0000-4000-8000-00000000000a'''
\set k1 '''a180000000000000000000000000000000000000000000000000000000000001'''

select tests.authenticate_as_service_role();

-- gpt-4o-mini at $0.15 / $0.60 per 1M tokens: 1 prompt token + 1 completion token = $0.00000075.
-- numeric(12,6) stored it as $0.000001 (+33%); a thousand such hits were "worth" $0.001 instead of $0.00075.
select public.cache_store(:company_a, :k1, 't018', 'gpt-4o-mini', null, '{"a": 1}', 1, 1, 0.00000075, 600) as stored \gset
select is((select cost_usd from public.ai_cache where company_id = :company_a and cache_key = :k1), 0.00000075::numeric,
  'a sub-micro-dollar cost is stored exactly');
select is((select cost_usd from private.ai_cache_events where company_id = :company_a and kind = 'upstream_call'),
  0.00000075::numeric, 'and so is the upstream call''s event');

select count(*) filter (where public.cache_lookup(:company_a, :k1, 't018') ->> 'status' = 'hit') from generate_series(1, 1000);
select is((public.get_cache_stats(:company_a) ->> 'cost_saved_usd')::numeric, 0.00075::numeric,
  '1000 hits save exactly 1000 x the token-priced cost');
select is((public.get_cache_stats(:company_a) ->> 'upstream_cost_usd')::numeric, 0.00000075::numeric,
  'the spend is exact too');

-- A twelve-decimal price survives as well (text-embedding-3-small: $0.02 per 1M → $0.00000002 a token).
select public.cache_record_call(:company_a, 't018', 3, 0, 0.00000006);
select is((public.get_cache_stats(:company_a) ->> 'upstream_cost_usd')::numeric, 0.00000081::numeric,
  'an uncached call''s cost is added to the spend');

-- Uncached spend (no-store, refusals): counted as upstream calls, labelled uncached ------------------------------
select public.cache_record_call(:company_a, 't018', 7, 3, 0.0000019);
select results_eq(format($$select (s ->> 'upstream_calls')::int, (s ->> 'upstream_tokens')::int, (s ->> 'uncached_calls')::int,
                                  (s ->> 'uncached_tokens')::int, (s ->> 'uncached_cost_usd')::numeric
                           from public.get_cache_stats(%L) s$$, :company_a),
  $$values (3, 15, 2, 13, 0.00000196::numeric)$$,
  'get_cache_stats: 3 upstream calls (2 of them uncached), their tokens and cost');
select results_eq(format($$select (t ->> 'upstream_calls')::int, (t ->> 'uncached_calls')::int, (t ->> 'upstream_cost_usd')::numeric,
                                  (t ->> 'uncached_cost_usd')::numeric
                           from jsonb_array_elements(public.get_cache_stats(%L) -> 'by_type') t$$, :company_a),
  $$values (3, 2, 0.00000271::numeric, 0.00000196::numeric)$$, 'and per cache type');
select results_eq($$select (t ->> 'upstream_calls')::int, (t ->> 'uncached_calls')::int, (t ->> 'uncached_tokens')::int,
                           (t ->> 'uncached_cost_usd')::numeric, (t ->> 'cost_saved_usd')::numeric
                    from jsonb_array_elements(public.get_cache_metrics() -> 'by_type') t where t ->> 'cache_type' = 't018'$$,
  $$values (3, 2, 13, 0.00000196::numeric, 0.00075::numeric)$$, 'get_cache_metrics (ai-metrics) counts them the same way');
select results_eq(format($$select (c ->> 'upstream_calls')::int, (c ->> 'uncached_calls')::int, (c ->> 'uncached_cost_usd')::numeric
                           from jsonb_array_elements(public.get_cache_stats_by_company(10000) -> 'companies') c
                           where c ->> 'company_id' = %L$$, :company_a),
  $$values (3, 2, 0.00000196::numeric)$$, 'so does the CLI''s per-company view');
select throws_ok($$select public.cache_record_call(null, null, 1, 1, 0)$$, '22023', null, 'a call needs its cache type');
select lives_ok($$select public.cache_record_call(null, 't018', -5, null, -1)$$, 'nonsense counts are clamped, not refused');
select is((select tokens + cost_usd from private.ai_cache_events where company_id is null and cache_type = 't018'), 0::numeric,
  'as zero');

-- The fold keeps every digit -------------------------------------------------------------------------------
select ok(private.rollup_cache_events() >= 1003, 'the fold takes the events');
select is((select count(*)::int from private.ai_cache_events where company_id = :company_a), 0, 'all of them');
select results_eq(format($$select hits, cost_saved_usd, upstream_calls, upstream_cost_usd, uncached_calls, uncached_tokens, uncached_cost_usd
                           from public.ai_cache_stats_daily where company_id = %L and cache_type = 't018'$$, :company_a),
  $$values (1000::bigint, 0.00075::numeric, 3::bigint, 0.00000271::numeric, 2::bigint, 13::bigint, 0.00000196::numeric)$$,
  'daily counters hold the exact sums');
select is((public.get_cache_stats(:company_a) ->> 'cost_saved_usd')::numeric, 0.00075::numeric, 'and the stats are unchanged by the fold');
select is((select hit_count from public.ai_cache where company_id = :company_a and cache_key = :k1), 1000::bigint,
  'the entry''s hit count is folded');
select col_type_is('public', 'ai_cache_stats_daily', 'cost_saved_usd', 'numeric(24,12)', 'daily savings keep 12 decimals');
select col_type_is('private', 'ai_cache_events', 'cost_usd', 'numeric(20,12)', 'events keep 12 decimals');

select * from finish();
rollback;
