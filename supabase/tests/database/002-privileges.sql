-- Privileges: who may execute which function, touch which table, use which schema.
begin;
select plan(27);

-- Function execute matrix (every function in public and private) ---------------------------
select set_eq($$
  select p.oid::regprocedure::text as function,
         has_function_privilege('anon', p.oid, 'execute') as anon,
         has_function_privilege('authenticated', p.oid, 'execute') as authenticated,
         has_function_privilege('service_role', p.oid, 'execute') as service_role
  from pg_proc p
  where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)
    and p.proname in (
      'increment_cache_hit_count', 'get_cache_stats', 'cleanup_expired_cache', 'get_conversation_with_messages',
      'get_conversation_stats', 'cache_lookup', 'cache_peek', 'cache_store', 'cache_release_lease',
      'is_company_member', 'has_company_role', 'cache_stats', 'cache_stats_for_admin', 'rollup_cache_events',
      'conversation_stats', 'conversation_stats_for_caller',
      'update_conversation_message_count', 'set_conversation_updated_at')
$$, $$ values
  ('increment_cache_hit_count(bigint)', false, false, true),
  ('get_cache_stats(uuid)', false, true, true),
  ('cleanup_expired_cache(integer)', false, false, true),
  ('get_conversation_with_messages(uuid)', false, true, true),
  ('get_conversation_stats(uuid)', false, true, true),
  ('cache_lookup(uuid,text,text,integer,text,integer)', false, false, true),
  ('cache_peek(uuid,text,integer)', false, false, true),
  ('cache_store(uuid,text,text,text,jsonb,jsonb,integer,integer,numeric,integer,smallint,text)', false, false, true),
  ('cache_release_lease(uuid,text,text,boolean,text)', false, false, true),
  ('private.is_company_member(uuid)', false, true, true),
  ('private.has_company_role(uuid,text[])', false, true, true),
  ('private.cache_stats(uuid,boolean)', false, false, true),
  ('private.cache_stats_for_admin(uuid)', false, true, false),
  ('private.rollup_cache_events(integer)', false, false, true),
  ('private.conversation_stats(uuid,uuid)', false, false, true),
  ('private.conversation_stats_for_caller(uuid)', false, true, false),
  ('private.update_conversation_message_count()', false, false, false),
  ('private.set_conversation_updated_at()', false, false, false)
$$, 'execute privileges of the schema''s functions are exactly as designed');

select is_empty($$
  select p.oid::regprocedure::text from pg_proc p
  where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)
    and (has_function_privilege('public', p.oid, 'execute') or has_function_privilege('anon', p.oid, 'execute'))
$$, 'no function in public or private is executable by PUBLIC or anon');
select is_empty($$
  select p.oid::regprocedure::text from pg_proc p
  where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)
    and has_function_privilege('authenticated', p.oid, 'execute')
    and p.oid::regprocedure::text not in (
      'get_cache_stats(uuid)', 'get_conversation_with_messages(uuid)', 'get_conversation_stats(uuid)',
      'private.is_company_member(uuid)', 'private.has_company_role(uuid,text[])',
      'private.cache_stats_for_admin(uuid)', 'private.conversation_stats_for_caller(uuid)',
      -- the dashboard's (migrations 20261202300xxx): admins of the company only, checked inside
      'get_dashboard_companies()', 'get_cache_dashboard(uuid,integer,integer)',
      'purge_company_cache(uuid,text,text)', 'private.company_name(uuid)',
      'private.cache_dashboard(uuid,integer,integer)', 'private.purge_company_cache(uuid,text,text)',
      -- the gateway's cache policies (migration 20261202500xxx): owners of the company, checked inside
      'set_cache_policy(uuid,text,integer,text,boolean)', 'delete_cache_policy(uuid,text)', 'get_cache_policies(uuid)')
$$, 'end users can execute only the functions meant for them (any new one must be added here on purpose)');

-- The hot-path RPCs, spelled out -------------------------------------------------------------
select function_privs_are('public', 'cache_lookup', array['uuid', 'text', 'text', 'integer', 'text', 'integer'],
  'anon', array[]::text[], 'anon cannot execute cache_lookup');
select function_privs_are('public', 'cache_lookup', array['uuid', 'text', 'text', 'integer', 'text', 'integer'],
  'authenticated', array[]::text[], 'authenticated cannot execute cache_lookup');
select function_privs_are('public', 'cache_lookup', array['uuid', 'text', 'text', 'integer', 'text', 'integer'],
  'service_role', array['EXECUTE'], 'service_role can execute cache_lookup');
select function_privs_are('public', 'cache_store',
  array['uuid', 'text', 'text', 'text', 'jsonb', 'jsonb', 'integer', 'integer', 'numeric', 'integer', 'smallint', 'text'],
  'authenticated', array[]::text[], 'authenticated cannot execute cache_store');
select function_privs_are('public', 'cache_store',
  array['uuid', 'text', 'text', 'text', 'jsonb', 'jsonb', 'integer', 'integer', 'numeric', 'integer', 'smallint', 'text'],
  'service_role', array['EXECUTE'], 'service_role can execute cache_store');
select function_privs_are('public', 'cache_release_lease', array['uuid', 'text', 'text', 'boolean', 'text'],
  'authenticated', array[]::text[], 'authenticated cannot execute cache_release_lease');
select function_privs_are('public', 'cache_release_lease', array['uuid', 'text', 'text', 'boolean', 'text'],
  'service_role', array['EXECUTE'], 'service_role can execute cache_release_lease');
select function_privs_are('public', 'cache_peek', array['uuid', 'text', 'integer'],
  'authenticated', array[]::text[], 'authenticated cannot execute cache_peek');
select function_privs_are('public', 'cache_peek', array['uuid', 'text', 'integer'],
  'service_role', array['EXECUTE'], 'service_role can execute cache_peek');
select function_privs_are('public', 'increment_cache_hit_count', array['bigint'],
  'authenticated', array[]::text[], 'authenticated cannot execute increment_cache_hit_count');
select function_privs_are('public', 'cleanup_expired_cache', array['integer'],
  'authenticated', array[]::text[], 'authenticated cannot execute cleanup_expired_cache');

-- Definer functions: only in private, always with an empty search_path ----------------------
select is_empty($$
  select p.oid::regprocedure::text from pg_proc p
  where p.pronamespace = 'public'::regnamespace and p.prosecdef
$$, 'no SECURITY DEFINER function in the exposed schema');
select is_empty($$
  select p.oid::regprocedure::text from pg_proc p
  where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace, 'tests'::regnamespace)
    and not coalesce(p.proconfig, '{}') @> array['search_path=""']
$$, 'every function in public, private and tests runs with search_path = ''''');

-- Tables -----------------------------------------------------------------------------------
select is_empty($$
  select c.oid::regclass::text, priv
  from pg_class c
  cross join unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) priv
  where c.relnamespace in ('public'::regnamespace, 'private'::regnamespace) and c.relkind = 'r'
    and (has_table_privilege('anon', c.oid, priv) or has_any_column_privilege('anon', c.oid, case when priv in ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES') then priv else 'SELECT' end))
$$, 'anon has no privilege on any table');
select set_eq($$
  select c.oid::regclass::text, priv
  from pg_class c
  cross join unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) priv
  where c.relnamespace in ('public'::regnamespace, 'private'::regnamespace) and c.relkind = 'r'
    and has_table_privilege('authenticated', c.oid, priv)
$$, $$ values
  ('company_members', 'SELECT'),
  ('ai_cache_stats_daily', 'SELECT'),
  ('ai_conversations', 'SELECT'), ('ai_conversations', 'DELETE'),
  ('ai_messages', 'SELECT'), ('ai_messages', 'DELETE'),
  ('ai_cache_policies', 'SELECT'), ('ai_cache_policies', 'DELETE')
$$, 'authenticated has exactly these table-level privileges');
select set_eq($$
  select table_name::text, privilege_type::text, column_name::text
  from information_schema.column_privileges
  where grantee = 'authenticated' and table_schema = 'public' and privilege_type in ('INSERT', 'UPDATE')
$$, $$ values
  ('ai_conversations', 'INSERT', 'id'), ('ai_conversations', 'INSERT', 'company_id'),
  ('ai_conversations', 'INSERT', 'user_id'), ('ai_conversations', 'INSERT', 'title'),
  ('ai_conversations', 'INSERT', 'context_type'), ('ai_conversations', 'INSERT', 'is_archived'),
  ('ai_conversations', 'UPDATE', 'title'), ('ai_conversations', 'UPDATE', 'context_type'),
  ('ai_conversations', 'UPDATE', 'is_archived'),
  ('ai_messages', 'INSERT', 'id'), ('ai_messages', 'INSERT', 'conversation_id'),
  ('ai_messages', 'INSERT', 'role'), ('ai_messages', 'INSERT', 'content'),
  ('ai_messages', 'INSERT', 'metadata'), ('ai_messages', 'INSERT', 'tokens_used'),
  ('ai_messages', 'INSERT', 'model'), ('ai_messages', 'INSERT', 'from_cache'),
  ('ai_cache_policies', 'INSERT', 'company_id'), ('ai_cache_policies', 'INSERT', 'cache_type'),
  ('ai_cache_policies', 'INSERT', 'ttl_seconds'), ('ai_cache_policies', 'INSERT', 'scope'),
  ('ai_cache_policies', 'INSERT', 'enabled'),
  ('ai_cache_policies', 'UPDATE', 'ttl_seconds'), ('ai_cache_policies', 'UPDATE', 'scope'),
  ('ai_cache_policies', 'UPDATE', 'enabled'), ('ai_cache_policies', 'UPDATE', 'updated_at')
$$, 'authenticated may insert/update only these columns (no counters, timestamps, owner or company moves)');
select table_privs_are('private', 'ai_cache_events', 'authenticated', array[]::text[],
  'authenticated has no privilege on private.ai_cache_events');
select table_privs_are('private', 'ai_cache_leases', 'authenticated', array[]::text[],
  'authenticated has no privilege on private.ai_cache_leases');
select table_privs_are('private', 'ai_cache_events', 'service_role', array['SELECT', 'INSERT', 'DELETE'],
  'service_role may append, read and fold events');
select is_empty($$
  select c.oid::regclass::text from pg_class c
  where c.relnamespace in ('public'::regnamespace, 'private'::regnamespace) and c.relkind = 'S'
    and (has_sequence_privilege('anon', c.oid, 'USAGE') or has_sequence_privilege('authenticated', c.oid, 'USAGE')
         or has_sequence_privilege('anon', c.oid, 'SELECT') or has_sequence_privilege('authenticated', c.oid, 'SELECT'))
$$, 'API roles have no privilege on sequences');

-- Schemas ----------------------------------------------------------------------------------
select ok(not has_schema_privilege('anon', 'private', 'usage'), 'anon cannot use schema private');
select ok(has_schema_privilege('authenticated', 'private', 'usage'),
  'authenticated can use schema private (policies call the membership helpers)');
select ok(not has_schema_privilege('anon', 'tests', 'usage') and not has_schema_privilege('authenticated', 'tests', 'usage'),
  'the tests helper schema is closed to the API roles');
select ok(not has_schema_privilege('authenticated', 'private', 'create') and not has_schema_privilege('service_role', 'private', 'create'),
  'nobody but the owner creates objects in private');

select * from finish();
rollback;
