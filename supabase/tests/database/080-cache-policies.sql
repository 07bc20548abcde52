-- ai_cache_policies and its RPCs: operators set defaults, owners override for their company,
-- admins and members only read, other companies see nothing of it; the resolution rule.
begin;
select plan(26);

\set company_a '''a0000000-0000-4000-8000-0000000000a8'''
\set company_b '''b0000000-0000-4000-8000-0000000000b8'''
select tests.create_supabase_user('pol_owner_a') as owner_a \gset
select tests.create_supabase_user('pol_admin_a') as admin_a \gset
select tests.create_supabase_user('pol_member_a') as member_a \gset
select tests.create_supabase_user('pol_owner_b') as owner_b \gset

insert into public.company_members (company_id, user_id, role) values
  (:company_a, :'owner_a', 'owner'),
  (:company_a, :'admin_a', 'admin'),
  (:company_a, :'member_a', 'member'),
  (:company_b, :'owner_b', 'owner');

-- operators (service role) -------------------------------------------------------------------
select tests.authenticate_as_service_role();
select lives_ok($$select public.set_cache_policy(null, 'pol_invoices', 3600, 'company', true)$$,
  'the service role sets a default for every company');
select lives_ok($$select public.set_cache_policy(null, 'pol_invoices', 7200, 'company', true)$$,
  'setting it again replaces it');
select is((select count(*)::int from public.ai_cache_policies where cache_type = 'pol_invoices'), 1, 'one default row per type');
select throws_ok($$select public.set_cache_policy(null, 'Bad Type', 60)$$, '23514', null, 'a malformed type is refused');
select throws_ok($$select public.set_cache_policy(null, 'pol_x', 0)$$, '23514', null, 'a TTL below 1 second is refused');
select throws_ok($$select public.set_cache_policy(null, 'pol_x', 60, 'planet')$$, '23514', null, 'an unknown scope is refused');

-- owner of A ---------------------------------------------------------------------------------
reset role;
select tests.authenticate_as('pol_owner_a');
select throws_ok($$select public.set_cache_policy(null, 'pol_invoices', 60)$$, '42501', null,
  'an owner cannot change the defaults of every company');
select lives_ok($$select public.set_cache_policy('a0000000-0000-4000-8000-0000000000a8', 'pol_invoices', 60, 'global', false)$$,
  'an owner overrides a type for their company');
select throws_ok($$select public.set_cache_policy('b0000000-0000-4000-8000-0000000000b8', 'pol_invoices', 60)$$, '42501', null,
  'an owner cannot set another company''s policy');
select results_eq($$select cache_type, ttl_seconds, scope, enabled, source from public.get_cache_policies('a0000000-0000-4000-8000-0000000000a8') where cache_type = 'pol_invoices'$$,
  $$values ('pol_invoices'::text, 60, 'global'::text, false, 'company'::text)$$,
  'the company''s override wins over the default');

-- admin and member of A: read only -----------------------------------------------------------
reset role;
select tests.authenticate_as('pol_admin_a');
select is((select count(*)::int from public.ai_cache_policies where cache_type = 'pol_invoices'), 2,
  'an admin reads the default and their company''s override');
select throws_ok($$select public.set_cache_policy('a0000000-0000-4000-8000-0000000000a8', 'pol_invoices', 90)$$, '42501', null,
  'an admin cannot change a policy');
select is(public.delete_cache_policy('a0000000-0000-4000-8000-0000000000a8', 'pol_invoices'), false, 'an admin cannot delete a policy');

reset role;
select tests.authenticate_as('pol_member_a');
select is((select count(*)::int from public.ai_cache_policies where cache_type = 'pol_invoices'), 2, 'a member reads them too');
select throws_ok($$insert into public.ai_cache_policies (company_id, cache_type, ttl_seconds) values ('a0000000-0000-4000-8000-0000000000a8', 'pol_member', 60)$$,
  '42501', null, 'a member cannot insert a policy');
select is_empty($$update public.ai_cache_policies set enabled = true where cache_type = 'pol_invoices' returning 1$$,
  'a member cannot update a policy');

-- other company --------------------------------------------------------------------------------
reset role;
select tests.authenticate_as('pol_owner_b');
select is((select count(*)::int from public.ai_cache_policies where cache_type = 'pol_invoices'), 1,
  'another company sees the default only, not A''s override');
select results_eq($$select ttl_seconds, scope, source from public.get_cache_policies('b0000000-0000-4000-8000-0000000000b8') where cache_type = 'pol_invoices'$$,
  $$values (7200, 'company'::text, 'default'::text)$$, 'another company follows the default');
select is_empty($$delete from public.ai_cache_policies where company_id = 'a0000000-0000-4000-8000-0000000000a8' returning 1$$,
  'another company''s owner cannot delete A''s override');

-- anon -----------------------------------------------------------------------------------------
reset role;
select tests.clear_authentication();
select throws_ok($$select count(*) from public.ai_cache_policies$$, '42501', null, 'anon reads nothing');
select throws_ok($$select public.set_cache_policy(null, 'pol_anon', 60)$$, '42501', null, 'anon sets nothing');

-- resolution and the gateway's lookup (service role) ---------------------------------------------
reset role;
select tests.authenticate_as_service_role();
select is(private.cache_policy_for(:company_a, 'pol_invoices') ->> 'scope', 'global', 'resolution: company row first');
select is(private.cache_policy_for(:company_b, 'pol_invoices') ->> 'ttl_seconds', '7200', 'resolution: else the default');
select is(private.cache_policy_for(:company_b, 'pol_unknown') ->> 'source', 'none', 'resolution: a type without a row is accepted with the caller''s defaults');
select throws_ok(format($$select public.gateway_cache_lookup(%L, %L, 'chat', repeat('a', 64), repeat('b', 64))$$, :'owner_b', :company_a),
  '42501', null, 'the gateway lookup refuses a non-member before touching the cache');

-- owner of A deletes the override: back to the default.
reset role;
select tests.authenticate_as('pol_owner_a');
select is(public.delete_cache_policy('a0000000-0000-4000-8000-0000000000a8', 'pol_invoices'), true, 'an owner removes the override');

select * from finish();
rollback;
