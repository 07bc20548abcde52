-- Schema structure: tables, columns, keys, indexes, constraints, RLS switched on, triggers.
begin;
select plan(78);

-- Schemas and tables ---------------------------------------------------------------------
select has_schema('private', 'schema private exists');
select has_table('public', 'company_members', 'table public.company_members exists');
select has_table('public', 'ai_cache', 'table public.ai_cache exists');
select has_table('public', 'ai_cache_stats_daily', 'table public.ai_cache_stats_daily exists');
select has_table('public', 'ai_conversations', 'table public.ai_conversations exists');
select has_table('public', 'ai_messages', 'table public.ai_messages exists');
select has_table('private', 'ai_cache_events', 'table private.ai_cache_events exists');
select has_table('private', 'ai_cache_leases', 'table private.ai_cache_leases exists');

-- Columns ----------------------------------------------------------------------------------
select columns_are('public', 'company_members', array['company_id', 'user_id', 'role', 'created_at'],
  'company_members columns');
select columns_are('public', 'ai_cache', array[
  'id', 'company_id', 'cache_key', 'cache_type', 'model', 'key_version', 'request', 'cached_result',
  'prompt_tokens', 'completion_tokens', 'total_tokens', 'cost_usd', 'hit_count', 'last_hit_at',
  'created_at', 'expires_at'], 'ai_cache columns');
select columns_are('public', 'ai_cache_stats_daily', array[
  'id', 'day', 'company_id', 'cache_type', 'hits', 'misses', 'tokens_saved', 'cost_saved_usd',
  'upstream_calls', 'upstream_errors', 'upstream_tokens', 'upstream_cost_usd',
  'uncached_calls', 'uncached_tokens', 'uncached_cost_usd'], 'ai_cache_stats_daily columns');
select columns_are('public', 'ai_conversations', array[
  'id', 'company_id', 'user_id', 'title', 'context_type', 'message_count', 'is_archived',
  'created_at', 'updated_at', 'last_message_at'], 'ai_conversations columns');
select columns_are('public', 'ai_messages', array[
  'id', 'conversation_id', 'seq', 'role', 'content', 'metadata', 'tokens_used', 'model',
  'from_cache', 'created_at'], 'ai_messages columns');
select columns_are('private', 'ai_cache_events', array[
  'id', 'at', 'company_id', 'cache_type', 'cache_id', 'kind', 'tokens', 'cost_usd', 'uncached'], 'ai_cache_events columns');
select columns_are('private', 'ai_cache_leases', array[
  'id', 'company_id', 'cache_key', 'cache_type', 'owner', 'acquired_at', 'expires_at'], 'ai_cache_leases columns');

-- Types, nullability, defaults ---------------------------------------------------------------
select col_type_is('public', 'ai_cache', 'id', 'bigint', 'ai_cache.id is bigint');
select col_type_is('public', 'ai_cache', 'company_id', 'uuid', 'ai_cache.company_id is uuid');
select col_is_null('public', 'ai_cache', 'company_id', 'ai_cache.company_id is nullable (global scope)');
select col_type_is('public', 'ai_cache', 'key_version', 'smallint', 'ai_cache.key_version is smallint');
select col_type_is('public', 'ai_cache', 'cached_result', 'jsonb', 'ai_cache.cached_result is jsonb');
select col_not_null('public', 'ai_cache', 'cached_result', 'ai_cache.cached_result is not null');
select col_is_null('public', 'ai_cache', 'request', 'ai_cache.request may be null (prompt storage off)');
select col_type_is('public', 'ai_cache', 'cost_usd', 'numeric(20,12)', 'ai_cache.cost_usd is numeric(20,12) (micro-cent exact)');
select col_type_is('public', 'ai_cache', 'hit_count', 'bigint', 'ai_cache.hit_count is bigint');
select col_default_is('public', 'ai_cache', 'hit_count', '0', 'ai_cache.hit_count defaults to 0');
select col_not_null('public', 'ai_cache', 'expires_at', 'ai_cache.expires_at is not null');
select col_is_pk('public', 'ai_cache', 'id', 'ai_cache primary key is id');
select col_type_is('public', 'ai_conversations', 'id', 'uuid', 'ai_conversations.id is uuid');
select col_default_is('public', 'ai_conversations', 'context_type', 'general', 'context_type defaults to general');
select col_default_is('public', 'ai_conversations', 'message_count', '0', 'message_count defaults to 0');
select col_default_is('public', 'ai_conversations', 'is_archived', 'false', 'is_archived defaults to false');
select col_type_is('public', 'ai_messages', 'seq', 'bigint', 'ai_messages.seq is bigint');
select is((select attidentity::text from pg_attribute
           where attrelid = 'public.ai_messages'::regclass and attname = 'seq'), 'a',
  'ai_messages.seq is an identity column (generated always)');
select col_default_is('public', 'ai_messages', 'metadata', '{}'::jsonb::text, 'metadata defaults to {}');
select col_default_is('public', 'ai_messages', 'from_cache', 'false', 'from_cache defaults to false');
select col_is_pk('public', 'company_members', array['company_id', 'user_id'], 'company_members PK (company_id, user_id)');
select col_is_pk('public', 'ai_messages', 'id', 'ai_messages primary key is id');
select has_pk('private', 'ai_cache_events', 'ai_cache_events has a primary key');
select has_pk('private', 'ai_cache_leases', 'ai_cache_leases has a primary key');
select has_pk('public', 'ai_cache_stats_daily', 'ai_cache_stats_daily has a primary key');

-- Foreign keys -----------------------------------------------------------------------------
select fk_ok('public', 'company_members', 'user_id', 'auth', 'users', 'id', 'company_members.user_id -> auth.users');
select fk_ok('public', 'ai_conversations', 'user_id', 'auth', 'users', 'id', 'ai_conversations.user_id -> auth.users');
select fk_ok('public', 'ai_messages', 'conversation_id', 'public', 'ai_conversations', 'id',
  'ai_messages.conversation_id -> ai_conversations');
select is((select confdeltype::text from pg_constraint
           where conrelid = 'public.ai_messages'::regclass and contype = 'f'), 'c',
  'deleting a conversation cascades to its messages');
select is((select confdeltype::text from pg_constraint
           where conrelid = 'public.company_members'::regclass and contype = 'f'), 'c',
  'deleting a user cascades to their memberships');

-- Indexes ----------------------------------------------------------------------------------
select has_index('public', 'company_members', 'company_members_user_id_company_id_idx',
  array['user_id', 'company_id'], 'company_members indexed on user_id');
select has_index('public', 'ai_cache', 'ai_cache_company_id_cache_key_key',
  array['company_id', 'cache_key'], 'ai_cache lookup index (company_id, cache_key)');
select index_is_unique('public', 'ai_cache', 'ai_cache_company_id_cache_key_key', 'ai_cache lookup index is unique');
select is((select indnullsnotdistinct from pg_index where indexrelid = 'public.ai_cache_company_id_cache_key_key'::regclass),
  true, 'ai_cache lookup index treats nulls as not distinct (one global entry per key)');
select has_index('public', 'ai_cache', 'ai_cache_expires_at_id_idx', array['expires_at', 'id'], 'ai_cache expiry index');
select has_index('public', 'ai_cache', 'ai_cache_company_id_cache_type_id_idx',
  array['company_id', 'cache_type', 'id', 'expires_at'], 'ai_cache (company_id, cache_type) index, covering expires_at');
select has_index('public', 'ai_cache', 'ai_cache_model_id_idx', array['model', 'id'], 'ai_cache model index');
select has_index('public', 'ai_conversations', 'ai_conversations_user_id_company_id_created_at_id_idx',
  array['user_id', 'company_id', 'created_at', 'id'], 'ai_conversations indexed on (user_id, company_id)');
select has_index('public', 'ai_conversations', 'ai_conversations_company_id_created_at_id_idx',
  array['company_id', 'created_at', 'id'], 'ai_conversations indexed on company_id');
select has_index('public', 'ai_messages', 'ai_messages_conversation_id_created_at_seq_idx',
  array['conversation_id', 'created_at', 'seq'], 'ai_messages indexed in conversation order');
select is_empty($$
  -- every foreign key has an index whose leading columns are the FK columns
  select c.conname
  from pg_constraint c
  where c.contype = 'f'
    and c.connamespace in ('public'::regnamespace, 'private'::regnamespace)
    and not exists (
      select 1 from pg_index i
      where i.indrelid = c.conrelid
        and (string_to_array(i.indkey::text, ' ')::smallint[])[1:array_length(c.conkey, 1)] = c.conkey)
$$, 'every foreign key is covered by an index');

-- Constraints ------------------------------------------------------------------------------
select throws_ok($$insert into public.ai_cache (cache_key, cache_type, model, cached_result, expires_at)
                   values ('not-a-sha256', 'chat', 'm', '{}', now() + interval '1 hour')$$,
  '23514', null, 'cache_key must be 64 lowercase hex characters');
select throws_ok($$insert into public.ai_cache (cache_key, cache_type, model, cached_result, expires_at)
                   values (encode(extensions.digest('001-a', 'sha256'), 'hex'), 'Not A Type!', 'm', '{}', now() + interval '1 hour')$$,
  '23514', null, 'cache_type must match the identifier pattern');
select lives_ok($$insert into public.ai_cache (cache_key, cache_type, model, cached_result, expires_at)
                  values (encode(extensions.digest('001-b', 'sha256'), 'hex'), 'invoice_extraction_v2', 'm', '{}', now() + interval '1 hour')$$,
  'cache_type is an open list: new types need no migration');
select lives_ok($$insert into public.ai_cache (cache_key, cache_type, model, cached_result, expires_at)
                  values (encode(extensions.digest('001-c', 'sha256'), 'hex'), 'chat', 'm', '{}', now() + interval '1 hour')$$,
  'a global entry can be stored');
select throws_ok($$insert into public.ai_cache (cache_key, cache_type, model, cached_result, expires_at)
                   values (encode(extensions.digest('001-c', 'sha256'), 'hex'), 'chat', 'm', '{}', now() + interval '1 hour')$$,
  '23505', null, 'a second global entry with the same key is rejected (nulls not distinct)');
select lives_ok($$insert into public.ai_cache (company_id, cache_key, cache_type, model, cached_result, expires_at)
                  values ('00000000-0000-0000-0000-0000000000a1', encode(extensions.digest('001-c', 'sha256'), 'hex'), 'chat', 'm', '{}', now() + interval '1 hour')$$,
  'the same key in a company scope is a separate entry');
select is((select total_tokens from public.ai_cache where cache_key = encode(extensions.digest('001-b', 'sha256'), 'hex')), 0,
  'total_tokens is computed');
select throws_ok($$insert into public.ai_cache (cache_key, cache_type, model, cached_result, expires_at)
                   values (encode(extensions.digest('001-d', 'sha256'), 'hex'), 'chat', 'm', null, now() + interval '1 hour')$$,
  '23502', null, 'cached_result is required');
select throws_ok($$insert into private.ai_cache_events (cache_type, kind) values ('chat', 'bogus')$$,
  '23514', null, 'event kind is one of hit, miss, upstream_call, upstream_error');
select throws_ok($$insert into public.company_members (company_id, user_id, role)
                   values (gen_random_uuid(), tests.create_supabase_user('structure_u1'), 'superuser')$$,
  '23514', null, 'company role is one of owner, admin, member');
select throws_ok($$insert into public.ai_conversations (company_id, user_id, context_type)
                   values (gen_random_uuid(), tests.create_supabase_user('structure_u2'), 'marketing')$$,
  '23514', null, 'context_type is one of general, accounting, banking, inventory');
select throws_ok($$insert into public.ai_messages (conversation_id, role, content)
                   values (gen_random_uuid(), 'robot', 'x')$$,
  '23514', null, 'message role is one of user, assistant, system, tool');

-- RLS --------------------------------------------------------------------------------------
select is_empty($$
  select n.nspname || '.' || c.relname
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where c.relkind in ('r', 'p') and n.nspname in ('public', 'private') and not c.relrowsecurity
$$, 'RLS is enabled on every table in public and private');
select policies_are('public', 'company_members', array['Members can read memberships of their companies'],
  'company_members policies');
select policies_are('public', 'ai_cache', array['Owners and admins can read their company''s cache entries'],
  'ai_cache has a single select policy (writes are service-role only)');
select policies_are('public', 'ai_conversations', array[
  'Users can read their own conversations in their companies',
  'Users can create their own conversations in their companies',
  'Users can update their own conversations in their companies',
  'Users can delete their own conversations in their companies'], 'ai_conversations policies');
select policies_are('public', 'ai_messages', array[
  'Users can read messages of their own conversations',
  'Users can add messages to their own conversations',
  'Users can delete messages of their own conversations'], 'ai_messages policies (no update)');
select is_empty($$
  select p.polname from pg_policy p
  join pg_class c on c.oid = p.polrelid
  where c.relnamespace = 'public'::regnamespace
    and pg_get_expr(coalesce(p.polqual, p.polwithcheck), p.polrelid) ~ 'auth\.uid\(\)'
    and pg_get_expr(coalesce(p.polqual, p.polwithcheck), p.polrelid) !~ 'SELECT auth\.uid\(\)'
$$, 'policies call auth.uid() through (select auth.uid()) only');

-- Triggers ---------------------------------------------------------------------------------
select has_trigger('public', 'ai_messages', 'trg_update_conversation_message_count',
  'message count trigger exists');
select trigger_is('public', 'ai_messages', 'trg_update_conversation_message_count',
  'private', 'update_conversation_message_count', 'message count trigger calls its function');
select has_trigger('public', 'ai_conversations', 'trg_update_conversation_updated_at',
  'updated_at trigger exists');
select trigger_is('public', 'ai_conversations', 'trg_update_conversation_updated_at',
  'private', 'set_conversation_updated_at', 'updated_at trigger calls its function');

select * from finish();
rollback;
