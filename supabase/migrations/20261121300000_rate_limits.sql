/*
 * Rate limits: token buckets kept in Postgres, shared by every function instance.
 *
 * A bucket is a name chosen by the caller (the ai-suggest function uses
 * 'ai-suggest:user:<user id>' for signed-in users and 'ai-suggest:ip:<client address>' for
 * anonymous callers) holding `tokens`, refilled continuously at p_refill_per_second up to
 * p_capacity. Each request takes p_cost tokens; when fewer are left it is refused and told
 * how long to wait. The limits are arguments, not stored: the function's configuration
 * (env vars) decides them and can change at any time; a lowered capacity applies at the
 * next call.
 *
 * Atomic under concurrency: one INSERT ... ON CONFLICT DO UPDATE per call. The update
 * expressions are evaluated on the latest version of the locked row, so concurrent takes on
 * one bucket serialize on its row and never overdraw it (n concurrent takes on a full bucket
 * of capacity c: exactly min(n, c) are allowed).
 *
 * A bucket that is full again is the same as no bucket: `full_at` records when that happens
 * and private.rate_limit_cleanup() (pg_cron job ai-rate-limit-cleanup, every 10 minutes)
 * deletes those rows, so the table holds only recently active callers.
 *
 * Also: public.assert_member(), the membership check the functions call (service role) before
 * using a company's cache scope outside a conversation.
 */

-- ---------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------
create table private.rate_limit_buckets (
  bucket       text primary key
               constraint rate_limit_buckets_bucket_check check (char_length(bucket) between 1 and 200),
  tokens       double precision not null
               constraint rate_limit_buckets_tokens_check check (tokens >= 0),
  last_allowed boolean not null,
  updated_at   timestamptz not null,
  full_at      timestamptz not null
);

comment on table private.rate_limit_buckets is
  'Token buckets of public.rate_limit_take(): tokens left as of updated_at; full_at = when the bucket is full again (then deletable).';
comment on column private.rate_limit_buckets.last_allowed is
  'Whether the latest take was allowed (what rate_limit_take returns, read back from the same upsert).';

-- ---------------------------------------------------------------------------------------
-- Indexes
-- ---------------------------------------------------------------------------------------
-- Only the primary key: every take updates full_at, so an index on it would make each take
-- a non-HOT update. The cleanup scans the (small: recently active callers only) table.

-- ---------------------------------------------------------------------------------------
-- RLS
-- ---------------------------------------------------------------------------------------
alter table private.rate_limit_buckets enable row level security;

-- Internal table: explicitly closed to the API roles even if a privilege is granted by
-- mistake. The service role bypasses RLS.
create policy "No direct access for API roles"
  on private.rate_limit_buckets
  as restrictive
  for all
  to anon, authenticated
  using (false)
  with check (false);

-- ---------------------------------------------------------------------------------------
-- Functions
-- ---------------------------------------------------------------------------------------

/*
 * private.rate_limit_refilled(p_tokens double precision, p_updated_at timestamptz,
 *                             p_now timestamptz, p_capacity integer,
 *                             p_refill_per_second double precision) -> double precision
 * The tokens of a bucket that held p_tokens at p_updated_at, refilled until p_now and
 * capped at p_capacity. Time never runs backwards (a take that read the clock earlier may
 * reach the row later).
 */
create or replace function private.rate_limit_refilled(
  p_tokens double precision,
  p_updated_at timestamptz,
  p_now timestamptz,
  p_capacity integer,
  p_refill_per_second double precision
)
returns double precision
language sql
immutable
security invoker
set search_path = ''
as $$
  select least(
    p_capacity::double precision,
    p_tokens + greatest(0, extract(epoch from p_now - p_updated_at)::double precision) * p_refill_per_second
  );
$$;

/*
 * private.rate_limit_after_take(p_tokens double precision, p_updated_at timestamptz,
 *                               p_now timestamptz, p_capacity integer,
 *                               p_refill_per_second double precision, p_cost integer)
 *   -> double precision
 * The tokens left after a take of p_cost at p_now: refilled minus p_cost when enough are
 * there, else just refilled (a refused take consumes nothing).
 */
create or replace function private.rate_limit_after_take(
  p_tokens double precision,
  p_updated_at timestamptz,
  p_now timestamptz,
  p_capacity integer,
  p_refill_per_second double precision,
  p_cost integer
)
returns double precision
language sql
immutable
security invoker
set search_path = ''
as $$
  select case when r.refilled >= p_cost then r.refilled - p_cost else r.refilled end
  from (
    select private.rate_limit_refilled(p_tokens, p_updated_at, p_now, p_capacity, p_refill_per_second) as refilled
  ) r;
$$;

/*
 * public.rate_limit_take(p_bucket text, p_capacity integer, p_refill_per_second double precision,
 *                        p_cost integer default 1) -> jsonb
 * Takes p_cost tokens from the bucket (created full on first use), after refilling it for
 * the time elapsed since its last use at p_refill_per_second, capped at p_capacity.
 * Returns { allowed: boolean, remaining: integer (whole tokens left), limit: p_capacity,
 *           retry_after_seconds: number (0 when allowed; otherwise the seconds until
 *           p_cost tokens are available, rounded up to the millisecond) }.
 * A refused take consumes nothing. p_cost 0 reads the bucket without taking.
 * Errors 22023: null/empty bucket, p_capacity < 1, p_refill_per_second not in (0, 1e9],
 * p_cost < 0 or p_cost > p_capacity (could never be allowed).
 * Service role only.
 */
create or replace function public.rate_limit_take(
  p_bucket text,
  p_capacity integer,
  p_refill_per_second double precision,
  p_cost integer default 1
)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_now timestamptz := pg_catalog.clock_timestamp();
  v_tokens double precision;
  v_allowed boolean;
begin
  if p_bucket is null or p_bucket = '' then
    raise exception 'rate_limit_take: p_bucket is required' using errcode = '22023';
  end if;
  if p_capacity is null or p_capacity < 1 then
    raise exception 'rate_limit_take: p_capacity must be >= 1' using errcode = '22023';
  end if;
  -- NaN sorts above every number in Postgres, so the upper bound rejects it too.
  if p_refill_per_second is null or p_refill_per_second <= 0 or p_refill_per_second > 1e9 then
    raise exception 'rate_limit_take: p_refill_per_second must be in (0, 1e9]' using errcode = '22023';
  end if;
  if p_cost is null or p_cost < 0 or p_cost > p_capacity then
    raise exception 'rate_limit_take: p_cost must be between 0 and p_capacity' using errcode = '22023';
  end if;

  -- A bucket update lost in a crash only forgives a few requests: do not wait for the WAL flush.
  perform pg_catalog.set_config('synchronous_commit', 'off', true);

  -- In DO UPDATE, b is the latest committed version of the row, locked: concurrent takes
  -- on one bucket apply one after the other.
  insert into private.rate_limit_buckets as b (bucket, tokens, last_allowed, updated_at, full_at)
  values (
    p_bucket,
    p_capacity - p_cost,
    true,
    v_now,
    v_now + make_interval(secs => p_cost / p_refill_per_second)
  )
  on conflict (bucket) do update
    set tokens = private.rate_limit_after_take(b.tokens, b.updated_at, v_now, p_capacity, p_refill_per_second, p_cost),
        last_allowed =
          private.rate_limit_refilled(b.tokens, b.updated_at, v_now, p_capacity, p_refill_per_second) >= p_cost,
        updated_at = greatest(b.updated_at, v_now),
        full_at = greatest(b.updated_at, v_now) + make_interval(secs => (
          p_capacity - private.rate_limit_after_take(b.tokens, b.updated_at, v_now, p_capacity, p_refill_per_second, p_cost)
        ) / p_refill_per_second)
  returning b.tokens, b.last_allowed into v_tokens, v_allowed;

  return jsonb_build_object(
    'allowed', v_allowed,
    'remaining', floor(v_tokens)::integer,
    'limit', p_capacity,
    'retry_after_seconds', case when v_allowed then 0
                                else ceil((p_cost - v_tokens) / p_refill_per_second * 1000) / 1000 end
  );
end;
$$;

/*
 * private.rate_limit_cleanup() -> integer
 * Deletes the buckets that are full again (full_at <= now()): absent and full are the same
 * to rate_limit_take. Returns how many were deleted. A take that refilled a bucket after
 * this statement's snapshot is re-checked on the latest row version and kept.
 * Called by pg_cron (job ai-rate-limit-cleanup, as postgres) and the service role.
 */
create or replace function private.rate_limit_cleanup()
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_deleted integer;
begin
  delete from private.rate_limit_buckets b where b.full_at <= pg_catalog.now();
  get diagnostics v_deleted = row_count;
  return v_deleted;
end;
$$;

/*
 * public.assert_member(p_user_id uuid, p_company_id uuid) -> void
 * Raises 42501 (insufficient_privilege) unless p_user_id is a member of p_company_id
 * (any role); null arguments raise too. For Edge Functions that act for a user they have
 * authenticated (p_user_id from a verified JWT) and must check a company_id from a request
 * body before touching that company's cache scope. Service role only.
 */
create or replace function public.assert_member(p_user_id uuid, p_company_id uuid)
returns void
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  perform private.assert_company_member(p_user_id, p_company_id);
end;
$$;

-- ---------------------------------------------------------------------------------------
-- Jobs
-- ---------------------------------------------------------------------------------------
select cron.schedule('ai-rate-limit-cleanup', '*/10 * * * *', $$select private.rate_limit_cleanup()$$);

-- ---------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------
revoke all on table private.rate_limit_buckets from public, anon, authenticated;
grant select, insert, update, delete on table private.rate_limit_buckets to service_role;

revoke all on function public.rate_limit_take(text, integer, double precision, integer) from public, anon, authenticated, service_role;
revoke all on function private.rate_limit_refilled(double precision, timestamptz, timestamptz, integer, double precision) from public, anon, authenticated, service_role;
revoke all on function private.rate_limit_after_take(double precision, timestamptz, timestamptz, integer, double precision, integer) from public, anon, authenticated, service_role;
revoke all on function private.rate_limit_cleanup() from public, anon, authenticated, service_role;
revoke all on function public.assert_member(uuid, uuid) from public, anon, authenticated, service_role;

grant execute on function public.rate_limit_take(text, integer, double precision, integer) to service_role;
grant execute on function private.rate_limit_refilled(double precision, timestamptz, timestamptz, integer, double precision) to service_role;
grant execute on function private.rate_limit_after_take(double precision, timestamptz, timestamptz, integer, double precision, integer) to service_role;
grant execute on function private.rate_limit_cleanup() to service_role;
grant execute on function public.assert_member(uuid, uuid) to service_role;
