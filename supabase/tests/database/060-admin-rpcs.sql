-- Admin RPCs (the ai-cache CLI and the ai-metrics function): privileges, filters, batches,
-- top entries, per-company statistics, metrics document.
--
-- Assertions are scoped to this file's companies and cache type, so data already in the
-- database (integration tests, a running stack) does not change the expected figures. The
-- transaction-level advisory lock keeps pg_cron's fold from moving this file's events.
begin;
select pg_advisory_xact_lock(hashtext('private.rollup_cache_events'));
select plan(51);

\set company_a '''a6000000-0000-4000-8000-00000000060a'''
\set company_b '''b6000000-0000-4000-8000-00000000060b'''
select tests.create_supabase_user('admin_060') as admin_060 \gset
insert into public.company_members (company_id, user_id, role) values (:company_a, :'admin_060', 'admin');

-- Fixtures ------------------------------------------------------------------------------------------
-- Company A: 6 entries. a1 (chat, old, fresh), a2 (chat, expired), a3 (t060_type, model old-model),
-- a4 (t060_type, key version 2, expired), a5/a6 (chat, gpt-4o, key version 2).
insert into public.ai_cache (company_id, cache_key, cache_type, model, key_version, request, cached_result,
                             prompt_tokens, completion_tokens, cost_usd, hit_count, created_at, expires_at) values
  (:company_a, repeat('1', 64), 'chat', 'gpt-4o-mini', 1,
   '{"messages":[{"role":"system","content":"You are"},{"role":"user","content":"first question"},
                 {"role":"assistant","content":"an answer"},{"role":"user","content":"What is VAT?"}]}',
   '{}', 60, 40, 0.002, 2, now() - interval '40 days', now() + interval '1 day'),
  (:company_a, repeat('2', 64), 'chat', 'gpt-4o-mini', 1, null, '{}', 30, 20, 0.001, 0,
   now() - interval '2 days', now() - interval '1 hour'),
  (:company_a, repeat('3', 64), 't060_type', 'old-model', 1, '{"description_projet":"site pour mon restaurant"}', '{}',
   10, 10, 0.0005, 0, now() - interval '1 day', now() + interval '1 day'),
  (:company_a, repeat('4', 64), 't060_type', 'gpt-4o-mini', 2, null, '{}', 10, 10, 0.0005, 0,
   now() - interval '31 days', now() - interval '1 minute'),
  (:company_a, repeat('5', 64), 'chat', 'gpt-4o', 2, null, '{}', 5, 5, 0.0001, 0, now(), now() + interval '1 day'),
  (:company_a, repeat('6', 64), 'chat', 'gpt-4o', 2, null, '{}', 5, 5, 0.0001, 0, now(), now() + interval '1 day');
-- Company B: one expired and one old entry of the same model, which A's operations must not touch.
insert into public.ai_cache (company_id, cache_key, cache_type, model, cached_result, created_at, expires_at) values
  (:company_b, repeat('1', 64), 'chat', 'old-model', '{}', now() - interval '40 days', now() - interval '1 hour'),
  (:company_b, repeat('2', 64), 'chat', 'old-model', '{}', now(), now() + interval '1 day');
-- Global scope: one entry of t060_type.
insert into public.ai_cache (company_id, cache_key, cache_type, model, cached_result, cost_usd, expires_at) values
  (null, encode(extensions.digest('060-global', 'sha256'), 'hex'), 't060_type', 'old-model', '{}', 0.0005,
   now() + interval '1 day');

-- Statistics of A: 2 hits of a1 folded into the daily table, 3 more hits of a3 not folded yet,
-- 4 misses, 1 upstream call, 1 upstream error.
insert into public.ai_cache_stats_daily (day, company_id, cache_type, hits, tokens_saved, cost_saved_usd) values
  (current_date, :company_a, 'chat', 2, 200, 0.004);
insert into private.ai_cache_events (company_id, cache_type, cache_id, kind, tokens, cost_usd)
select :company_a, 't060_type', c.id, 'hit', c.total_tokens, c.cost_usd
from public.ai_cache c, generate_series(1, 3)
where c.company_id = :company_a and c.cache_key = repeat('3', 64);
insert into private.ai_cache_events (company_id, cache_type, kind, tokens, cost_usd) values
  (:company_a, 'chat', 'miss', 0, 0), (:company_a, 'chat', 'miss', 0, 0),
  (:company_a, 't060_type', 'miss', 0, 0), (:company_a, 't060_type', 'miss', 0, 0),
  (:company_a, 't060_type', 'upstream_call', 20, 0.0005),
  (:company_a, 't060_type', 'upstream_error', 0, 0);

-- Privileges -------------------------------------------------------------------------------------------
select function_privs_are('public', 'count_cache_entries',
  array['bigint', 'boolean', 'uuid', 'boolean', 'text', 'text', 'smallint'], 'anon', array[]::text[],
  'anon cannot execute count_cache_entries');
select function_privs_are('public', 'count_cache_entries',
  array['bigint', 'boolean', 'uuid', 'boolean', 'text', 'text', 'smallint'], 'authenticated', array[]::text[],
  'authenticated cannot execute count_cache_entries');
select function_privs_are('public', 'count_cache_entries',
  array['bigint', 'boolean', 'uuid', 'boolean', 'text', 'text', 'smallint'], 'service_role', array['EXECUTE'],
  'service_role can execute count_cache_entries');
select function_privs_are('public', 'delete_cache_batch',
  array['bigint', 'boolean', 'uuid', 'boolean', 'text', 'text', 'smallint', 'boolean', 'integer'], 'anon', array[]::text[],
  'anon cannot execute delete_cache_batch');
select function_privs_are('public', 'delete_cache_batch',
  array['bigint', 'boolean', 'uuid', 'boolean', 'text', 'text', 'smallint', 'boolean', 'integer'], 'authenticated', array[]::text[],
  'authenticated cannot execute delete_cache_batch');
select function_privs_are('public', 'delete_cache_batch',
  array['bigint', 'boolean', 'uuid', 'boolean', 'text', 'text', 'smallint', 'boolean', 'integer'], 'service_role', array['EXECUTE'],
  'service_role can execute delete_cache_batch');
select function_privs_are('public', 'get_top_cache_entries', array['integer', 'uuid', 'text', 'boolean', 'integer'],
  'anon', array[]::text[], 'anon cannot execute get_top_cache_entries');
select function_privs_are('public', 'get_top_cache_entries', array['integer', 'uuid', 'text', 'boolean', 'integer'],
  'authenticated', array[]::text[], 'authenticated cannot execute get_top_cache_entries');
select function_privs_are('public', 'get_top_cache_entries', array['integer', 'uuid', 'text', 'boolean', 'integer'],
  'service_role', array['EXECUTE'], 'service_role can execute get_top_cache_entries');
select function_privs_are('public', 'get_cache_stats_by_company', array['integer'],
  'anon', array[]::text[], 'anon cannot execute get_cache_stats_by_company');
select function_privs_are('public', 'get_cache_stats_by_company', array['integer'],
  'authenticated', array[]::text[], 'authenticated cannot execute get_cache_stats_by_company');
select function_privs_are('public', 'get_cache_stats_by_company', array['integer'],
  'service_role', array['EXECUTE'], 'service_role can execute get_cache_stats_by_company');
select function_privs_are('public', 'get_cache_metrics', array[]::text[],
  'anon', array[]::text[], 'anon cannot execute get_cache_metrics');
select function_privs_are('public', 'get_cache_metrics', array[]::text[],
  'authenticated', array[]::text[], 'authenticated cannot execute get_cache_metrics');
select function_privs_are('public', 'get_cache_metrics', array[]::text[],
  'service_role', array['EXECUTE'], 'service_role can execute get_cache_metrics');
select is_empty($$
  select p.oid::regprocedure::text from pg_proc p
  where p.oid in ('private.cache_entries_where(bigint,boolean,uuid,boolean,text,text,smallint)'::regprocedure,
                  'private.cache_entry_prompt(jsonb)'::regprocedure, 'private.cache_cron_jobs()'::regprocedure)
    and (has_function_privilege('anon', p.oid, 'execute') or has_function_privilege('authenticated', p.oid, 'execute'))
$$, 'the private helpers are not executable by anon or authenticated');

-- Even a company admin is refused (they have get_cache_stats for their own company).
select tests.authenticate_as('admin_060');
select throws_ok(format('select public.delete_cache_batch(p_company_id => %L)', :company_a), '42501', null,
  'a company admin cannot delete through delete_cache_batch');
select throws_ok(format('select public.get_top_cache_entries(10, %L)', :company_a), '42501', null,
  'a company admin cannot list top entries');
select throws_ok($$select public.get_cache_metrics()$$, '42501', null, 'a company admin cannot read the metrics');
reset role;
select tests.clear_authentication();
select throws_ok($$select public.count_cache_entries()$$, '42501', null, 'anon cannot count entries');
reset role;

-- Everything below runs as the service role (the CLI's REST mode) --------------------------------------
select tests.authenticate_as_service_role();

-- Bad arguments.
select throws_ok($$select public.delete_cache_batch()$$, '22023', null,
  'no filter and no p_all: refused');
select throws_ok(format('select public.delete_cache_batch(p_company_id => %L, p_batch_size => 0)', :company_a), '22023', null,
  'a batch size of 0 is refused');
select throws_ok(format('select public.count_cache_entries(p_company_id => %L, p_global_only => true)', :company_a), '22023', null,
  'a company and the global scope together are refused');
select throws_ok($$select public.count_cache_entries(p_older_than_seconds => -1)$$, '22023', null, 'a negative age is refused');
select throws_ok($$select public.get_top_cache_entries(0)$$, '22023', null, 'a top of 0 entries is refused');

-- Counting.
select is(public.count_cache_entries(p_company_id => :company_a), 6::bigint, 'A has 6 entries');
select is(public.count_cache_entries(p_company_id => :company_a, p_expired_only => true), 2::bigint, 'A has 2 expired entries');
select is(public.count_cache_entries(p_company_id => :company_a, p_older_than_seconds => 30 * 86400), 2::bigint,
  'A has 2 entries older than 30 days');
select is(public.count_cache_entries(p_company_id => :company_a, p_older_than_seconds => 30 * 86400, p_expired_only => true), 1::bigint,
  'conditions combine with AND');
select is(public.count_cache_entries(p_cache_type => 't060_type'), 3::bigint, 't060_type: 2 entries of A + 1 global');
select is(public.count_cache_entries(p_cache_type => 't060_type', p_global_only => true), 1::bigint, 'one of them global');

-- Top entries: a3 has 3 unfolded hits, a1 2 folded ones.
select is(public.get_top_cache_entries(2, :company_a) -> 0 ->> 'model', 'old-model',
  'the most used entry of A counts its unfolded hits');
select is((public.get_top_cache_entries(2, :company_a) -> 0 ->> 'uses')::int, 4, 'its uses = 1 + 3 hits');
select is(public.get_top_cache_entries(2, :company_a) -> 0 ->> 'prompt', 'site pour mon restaurant',
  'its prompt comes from the stored request');
select is((public.get_top_cache_entries(2, :company_a) -> 0 ->> 'saved_usd')::numeric, 0.0015,
  'its savings are hits x its stored cost');
select is((public.get_top_cache_entries(2, :company_a) -> 1 ->> 'uses')::int, 3, 'the second one has 1 + 2 folded hits');
select is(public.get_top_cache_entries(2, :company_a) -> 1 ->> 'prompt', 'What is VAT?',
  'a chat entry''s prompt is its last user message');
select is(jsonb_array_length(public.get_top_cache_entries(2, :company_a)), 2, '-n 2 returns 2 entries');
select is(public.get_top_cache_entries(10, null, 't060_type', true) -> 0 ->> 'company_id', null,
  'p_global_only lists the global scope');

-- Per-company statistics.
select is((select c from jsonb_array_elements(public.get_cache_stats_by_company(10000) -> 'companies') c
           where c ->> 'company_id' = :company_a),
  jsonb_build_object('company_id', :company_a::uuid, 'entries', 6, 'expired_entries', 2, 'hits', 5, 'misses', 4,
                     'total_uses', 11, 'hit_rate', 0.5556, 'reuse_rate', 0.8333, 'tokens_saved', 260,
                     'cost_saved_usd', 0.0055, 'upstream_calls', 1, 'upstream_errors', 1,
                     'upstream_tokens', 20, 'upstream_cost_usd', 0.0005, 'uncached_calls', 0, 'uncached_cost_usd', 0),
  'A''s statistics: folded + unfolded hits, rates, savings from stored costs');

-- Metrics document.
select is((select t from jsonb_array_elements(public.get_cache_metrics() -> 'by_type') t
           where t ->> 'cache_type' = 't060_type'),
  jsonb_build_object('cache_type', 't060_type', 'entries', 3, 'expired_entries', 1, 'hits', 3, 'misses', 2,
                     'tokens_saved', 60, 'cost_saved_usd', 0.0015, 'upstream_calls', 1, 'upstream_errors', 1,
                     'upstream_tokens', 20, 'upstream_cost_usd', 0.0005,
                     'uncached_calls', 0, 'uncached_tokens', 0, 'uncached_cost_usd', 0),
  'metrics per cache type');
select ok((public.get_cache_metrics() -> 'jobs') @> '[{"job": "ai-cache-cleanup", "schedule": "0 3 * * *"}]',
  'metrics list the nightly cleanup job');
select ok((public.get_cache_metrics() ->> 'table_bytes')::bigint > 0, 'metrics report the table size');

-- Deleting in batches.
select is(public.delete_cache_batch(p_company_id => :company_a, p_expired_only => true, p_batch_size => 1), 1,
  'one batch deletes at most p_batch_size rows');
select is(public.delete_cache_batch(p_company_id => :company_a, p_expired_only => true, p_batch_size => 1), 1,
  'the next batch deletes the next one');
select is(public.delete_cache_batch(p_company_id => :company_a, p_expired_only => true, p_batch_size => 1), 0,
  'then 0: done');
select is(public.delete_cache_batch(p_company_id => :company_a, p_older_than_seconds => 30 * 86400), 1,
  'older than 30 days (the expired one is gone already)');
select is(public.delete_cache_batch(p_model => 'old-model', p_company_id => :company_a), 1,
  'purge by model, within A');
select is(public.delete_cache_batch(p_key_version => 2::smallint, p_company_id => :company_a), 2,
  'purge by key version, within A');
select is(public.count_cache_entries(p_company_id => :company_b), 2::bigint, 'B was not touched');
select is(public.delete_cache_batch(p_company_id => :company_a), 0, 'clearing A: nothing left');

select * from finish();
rollback;
