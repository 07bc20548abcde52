/*
 * Private schema and privilege lockdown.
 *
 * Supabase grants ALL on every new table, function and sequence in `public` to anon,
 * authenticated and service_role (default privileges). This project grants on purpose
 * instead: the defaults for the API roles are revoked here, before any object exists, and
 * every later migration grants exactly what each role needs.
 *
 * Functions: PostgreSQL also gives EXECUTE on every new function to PUBLIC through its
 * built-in (global) default, which a per-schema default cannot take away. So every
 * migration that creates a function revokes it from public/anon/authenticated explicitly,
 * and the test suite checks that no function in `public` or `private` is executable by
 * PUBLIC or anon.
 *
 * `private` holds helpers, internal tables and SECURITY DEFINER bodies. It is not in the
 * API's exposed schemas (config.toml [api].schemas = ["public"]), so nothing in it is
 * reachable through PostgREST. `authenticated` still needs USAGE on it because RLS policies
 * call `private.is_company_member()` / `private.has_company_role()` with the caller's
 * privileges; each such function is granted one by one.
 */

-- ---------------------------------------------------------------------------------------
-- Schema
-- ---------------------------------------------------------------------------------------
create schema if not exists private;
comment on schema private is
  'Internal helpers, tables and SECURITY DEFINER bodies of supabase-ai-cache. Not exposed through the API.';

-- ---------------------------------------------------------------------------------------
-- Grants: private
-- ---------------------------------------------------------------------------------------
revoke all on schema private from public, anon, authenticated;
grant usage on schema private to authenticated, service_role;

alter default privileges for role postgres in schema private
  revoke all on tables from public, anon, authenticated, service_role;
alter default privileges for role postgres in schema private
  revoke all on sequences from public, anon, authenticated, service_role;
alter default privileges for role postgres in schema private
  revoke all on functions from anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------
-- Grants: public (undo Supabase's blanket defaults for the API roles)
-- ---------------------------------------------------------------------------------------
alter default privileges in schema public
  revoke all on tables from anon, authenticated;
alter default privileges in schema public
  revoke all on sequences from anon, authenticated;
alter default privileges in schema public
  revoke execute on functions from public, anon, authenticated;

alter default privileges for role postgres in schema public
  revoke all on tables from anon, authenticated;
alter default privileges for role postgres in schema public
  revoke all on sequences from anon, authenticated;
alter default privileges for role postgres in schema public
  revoke execute on functions from public, anon, authenticated;
