/*
 * Test setup, run first by pg_prove / `supabase test db` (files run in name order).
 *
 * Creates pgTAP and a small `tests` helper schema, mirroring basejump's
 * supabase_test_helpers. Unlike the test files, this one COMMITS: the helpers must exist
 * for the files that follow. Everything is idempotent (re-runnable).
 *
 * Helpers (postgres only: the schema is closed to anon/authenticated, so switch back with
 * `reset role` before calling one again):
 *   tests.create_supabase_user(identifier, email default null) -> uuid
 *   tests.get_supabase_uid(identifier) -> uuid
 *   tests.authenticate_as(identifier)         role authenticated + that user's JWT claims
 *   tests.authenticate_as_service_role()      role service_role + service_role claims
 *   tests.clear_authentication()              role anon + anon claims
 * Like PostgREST, they use transaction-local settings (set local role, set_config(..., true)).
 */

create extension if not exists pgtap with schema extensions;

create schema if not exists tests;
revoke all on schema tests from public, anon, authenticated;

/*
 * tests.create_supabase_user(identifier text, email text default null) -> uuid
 * Inserts a user into auth.users (email defaults to <identifier>.<id prefix>@test.local) and
 * remembers the identifier in raw_user_meta_data.test_identifier. Returns the new id.
 */
create or replace function tests.create_supabase_user(identifier text, email text default null)
returns uuid
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_id uuid := pg_catalog.gen_random_uuid();
begin
  insert into auth.users (id, aud, role, email, raw_user_meta_data, raw_app_meta_data, created_at, updated_at)
  values (
    v_id,
    'authenticated',
    'authenticated',
    -- unique even if the database holds other (committed) test users with this identifier
    coalesce(email, identifier || '.' || left(v_id::text, 8) || '@test.local'),
    pg_catalog.jsonb_build_object('test_identifier', identifier),
    pg_catalog.jsonb_build_object('provider', 'email', 'providers', pg_catalog.jsonb_build_array('email')),
    pg_catalog.now(),
    pg_catalog.now()
  );
  return v_id;
end;
$$;

/*
 * tests.get_supabase_uid(identifier text) -> uuid
 * The id of the (latest) test user created with this identifier; raises when there is none.
 */
create or replace function tests.get_supabase_uid(identifier text)
returns uuid
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  v_id uuid;
begin
  select u.id into v_id
  from auth.users u
  where u.raw_user_meta_data ->> 'test_identifier' = identifier
  order by u.created_at desc
  limit 1;
  if v_id is null then
    raise exception 'tests.get_supabase_uid: no test user "%"', identifier;
  end if;
  return v_id;
end;
$$;

/*
 * tests.authenticate_as(identifier text) -> void
 * Acts as that user for the rest of the transaction, as PostgREST does for a user JWT:
 * role authenticated and request.jwt.claims = the token payload (sub, role, email, aud, ...).
 */
create or replace function tests.authenticate_as(identifier text)
returns void
language plpgsql
security invoker
set search_path = ''
as $$
declare
  v_user record;
begin
  select u.id, u.email, u.phone, u.raw_user_meta_data, u.raw_app_meta_data into v_user
  from auth.users u
  where u.raw_user_meta_data ->> 'test_identifier' = identifier
  order by u.created_at desc
  limit 1;
  if v_user.id is null then
    raise exception 'tests.authenticate_as: no test user "%"', identifier;
  end if;

  perform pg_catalog.set_config('role', 'authenticated', true);
  perform pg_catalog.set_config(
    'request.jwt.claims',
    pg_catalog.jsonb_build_object(
      'sub', v_user.id,
      'role', 'authenticated',
      'aud', 'authenticated',
      'email', v_user.email,
      'phone', coalesce(v_user.phone, ''),
      'app_metadata', v_user.raw_app_meta_data,
      'user_metadata', v_user.raw_user_meta_data,
      'aal', 'aal1',
      'is_anonymous', false,
      'exp', (extract(epoch from pg_catalog.now()) + 3600)::bigint
    )::text,
    true
  );
end;
$$;

/*
 * tests.authenticate_as_service_role() -> void
 * Acts as the service role (the Edge Functions' key) for the rest of the transaction.
 */
create or replace function tests.authenticate_as_service_role()
returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
  perform pg_catalog.set_config('role', 'service_role', true);
  perform pg_catalog.set_config('request.jwt.claims', '{"role":"service_role","iss":"supabase"}', true);
end;
$$;

/*
 * tests.clear_authentication() -> void
 * Acts as an anonymous API caller (anon key) for the rest of the transaction.
 */
create or replace function tests.clear_authentication()
returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
  perform pg_catalog.set_config('role', 'anon', true);
  perform pg_catalog.set_config('request.jwt.claims', '{"role":"anon","iss":"supabase"}', true);
end;
$$;

revoke all on all functions in schema tests from public, anon, authenticated;

begin;
select plan(1);
select ok(true, 'pgTAP and the tests helper schema are installed');
select * from finish();
rollback;
