/*
 * Scheduled jobs (pg_cron).
 *
 *   ai-cache-rollup   every minute  select private.rollup_cache_events()
 *   ai-cache-cleanup  03:00 daily   select public.cleanup_expired_cache()
 *
 * cron.schedule(job_name, ...) updates the job of that name when it already exists, so
 * re-running this migration (or a later one changing a schedule) is idempotent. Jobs run
 * as the role that schedules them (postgres), which owns the tables: no grant needed.
 * Schedules are in cron.timezone (UTC on Supabase).
 */

-- ---------------------------------------------------------------------------------------
-- Extensions
-- ---------------------------------------------------------------------------------------
create extension if not exists pg_cron with schema pg_catalog;

-- ---------------------------------------------------------------------------------------
-- Jobs
-- ---------------------------------------------------------------------------------------
select cron.schedule('ai-cache-rollup', '* * * * *', $$select private.rollup_cache_events()$$);
select cron.schedule('ai-cache-cleanup', '0 3 * * *', $$select public.cleanup_expired_cache()$$);
