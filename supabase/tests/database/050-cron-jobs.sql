-- pg_cron jobs: they exist with the right schedule and command, and their commands work
-- when run the way pg_cron runs them (as the scheduling role, postgres).
begin;
-- Hold the fold's lock so a concurrent pg_cron fold cannot take this file's events first.
select pg_advisory_xact_lock(hashtext('private.rollup_cache_events'));
select plan(10);

select has_extension('pg_cron', 'pg_cron is installed');

select results_eq($$select schedule, command, username, active from cron.job where jobname = 'ai-cache-cleanup'$$,
  $$values ('0 3 * * *'::text, 'select public.cleanup_expired_cache()'::text, 'postgres'::text, true)$$,
  'ai-cache-cleanup runs cleanup_expired_cache() at 03:00 every day, as postgres');
select results_eq($$select schedule, command, username, active from cron.job where jobname = 'ai-cache-rollup'$$,
  $$values ('* * * * *'::text, 'select private.rollup_cache_events()'::text, 'postgres'::text, true)$$,
  'ai-cache-rollup folds cache events every minute, as postgres');
select is((select count(*)::int from cron.job where jobname like 'ai-cache-%'), 2, 'exactly two ai-cache jobs');

-- Scheduling again (what re-running the migration does) updates in place -----------------------------
select cron.schedule('ai-cache-cleanup', '0 3 * * *', $$select public.cleanup_expired_cache()$$);
select is((select count(*)::int from cron.job where jobname = 'ai-cache-cleanup'), 1, 'scheduling by name is idempotent');

-- The commands, run as the jobs run them -------------------------------------------------------------
\set company_a '''a0000000-0000-4000-8000-00000000000a'''
insert into public.ai_cache (company_id, cache_key, cache_type, model, cached_result, expires_at) values
  (:company_a, repeat('7', 64), 'chat', 'm', '{}', now() - interval '1 minute'),
  (:company_a, repeat('6', 64), 'chat', 'm', '{}', now() + interval '1 hour');
insert into private.ai_cache_events (company_id, cache_type, kind) values (:company_a, 'chat', 'miss');

set local role postgres;
select lives_ok((select command from cron.job where jobname = 'ai-cache-rollup'), 'the rollup job''s command runs');
select is((select count(*)::int from private.ai_cache_events where company_id = :company_a), 0, 'and folds the events');
select lives_ok((select command from cron.job where jobname = 'ai-cache-cleanup'), 'the cleanup job''s command runs');
select is((select count(*)::int from public.ai_cache where company_id = :company_a and cache_key = repeat('7', 64)), 0,
  'and deletes the expired entry');
select is((select count(*)::int from public.ai_cache where company_id = :company_a and cache_key = repeat('6', 64)), 1,
  'but not the fresh one');

select * from finish();
rollback;
