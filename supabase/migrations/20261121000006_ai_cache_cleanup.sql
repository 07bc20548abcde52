/*
 * Expiry cleanup.
 *
 * cleanup_expired_cache() folds pending statistics events first (so the counters of the
 * entries about to go are kept in ai_cache_stats_daily), drops expired leases, then
 * deletes expired entries in batches of p_batch_size rows.
 *
 * Each batch locks its rows with FOR UPDATE SKIP LOCKED, so it never waits on a
 * concurrent cache_store of the same key (that row is left for the next run). Batches
 * walk the (expires_at, id) index in key order from where the previous batch stopped, so
 * a large cleanup does not rescan the rows it already deleted. A function cannot commit
 * between batches; hits never wait on it anyway (lookups only read entries, and readers
 * are not blocked by row locks). pg_cron runs it nightly (job ai-cache-cleanup).
 */

-- ---------------------------------------------------------------------------------------
-- Functions
-- ---------------------------------------------------------------------------------------

/*
 * public.cleanup_expired_cache(p_batch_size integer default 5000) -> integer
 * Deletes every entry with expires_at <= now() (except rows locked by a concurrent writer
 * at that moment), p_batch_size rows per statement, and returns how many were deleted.
 * Also folds pending cache events and deletes expired leases.
 * Errors: 22023 when p_batch_size < 1. Service role only (and the postgres cron job).
 */
create or replace function public.cleanup_expired_cache(p_batch_size integer default 5000)
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_now timestamptz := now();
  v_deleted integer := 0;
  v_batch integer;
  v_seen integer;
  v_after_expires_at timestamptz := '-infinity';
  v_after_id bigint := 0;
begin
  if p_batch_size is null or p_batch_size < 1 then
    raise exception 'cleanup_expired_cache: p_batch_size must be >= 1' using errcode = '22023';
  end if;

  perform private.rollup_cache_events();

  delete from private.ai_cache_leases l where l.expires_at <= v_now;

  loop
    with batch as (
      select x.id, x.expires_at
      from public.ai_cache x
      where x.expires_at <= v_now
        and (x.expires_at, x.id) > (v_after_expires_at, v_after_id)
      order by x.expires_at, x.id
      limit p_batch_size
      for update skip locked
    ),
    deleted as (
      delete from public.ai_cache c
      using batch b
      where c.id = b.id
      returning c.id
    ),
    last_row as (
      select b.expires_at, b.id from batch b order by b.expires_at desc, b.id desc limit 1
    )
    select (select count(*) from deleted),
           (select count(*) from batch),
           (select l.expires_at from last_row l),
           (select l.id from last_row l)
    into v_batch, v_seen, v_after_expires_at, v_after_id;

    v_deleted := v_deleted + v_batch;
    exit when v_seen < p_batch_size;
  end loop;

  return v_deleted;
end;
$$;

-- ---------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------
revoke all on function public.cleanup_expired_cache(integer) from public, anon, authenticated, service_role;
grant execute on function public.cleanup_expired_cache(integer) to service_role;
