-- company_members RLS and the membership helpers.
begin;
select plan(24);

-- Fixtures: company A (owner, admin, member), company B (owner), and an outsider.
\set company_a '''a0000000-0000-4000-8000-00000000000a'''
\set company_b '''b0000000-0000-4000-8000-00000000000b'''
select tests.create_supabase_user('owner_a') as owner_a \gset
select tests.create_supabase_user('admin_a') as admin_a \gset
select tests.create_supabase_user('member_a') as member_a \gset
select tests.create_supabase_user('owner_b') as owner_b \gset
select tests.create_supabase_user('outsider') as outsider \gset

insert into public.company_members (company_id, user_id, role) values
  (:company_a, :'owner_a', 'owner'),
  (:company_a, :'admin_a', 'admin'),
  (:company_a, :'member_a', 'member'),
  (:company_b, :'owner_b', 'owner');

-- anon ---------------------------------------------------------------------------------------
select tests.clear_authentication();
select throws_ok($$select count(*) from public.company_members$$, '42501', null,
  'anon cannot read company_members');
select throws_ok(format($$select private.is_company_member(%L)$$, :company_a), '42501', null,
  'anon cannot call the membership helpers');

-- member of A ------------------------------------------------------------------------------
reset role;
select tests.authenticate_as('member_a');
select is((select count(*)::int from public.company_members), 3,
  'a member sees the 3 memberships of their company');
select is((select count(*)::int from public.company_members where company_id = :company_b), 0,
  'a member sees nothing of another company');
select ok(private.is_company_member(:company_a), 'is_company_member: true for own company');
select ok(not private.is_company_member(:company_b), 'is_company_member: false for another company');
select ok(not private.is_company_member(null), 'is_company_member: false for null');
select ok(not private.has_company_role(:company_a, array['owner', 'admin']),
  'has_company_role: a plain member is not owner/admin');
select ok(private.has_company_role(:company_a, array['member']), 'has_company_role: member role matches');
select throws_ok(format($$insert into public.company_members (company_id, user_id, role) values (%L, %L, 'member')$$,
                        :company_b, :'member_a'), '42501', null,
  'a member cannot add themselves to another company');
select throws_ok(format($$update public.company_members set role = 'owner' where user_id = %L$$, :'member_a'),
  '42501', null, 'a member cannot promote themselves');
select throws_ok(format($$delete from public.company_members where user_id = %L$$, :'owner_a'),
  '42501', null, 'a member cannot remove someone');

-- admin and owner of A -------------------------------------------------------------------------
reset role;
select tests.authenticate_as('admin_a');
select ok(private.has_company_role(:company_a, array['owner', 'admin']), 'has_company_role: admin is owner/admin');
select ok(not private.has_company_role(:company_a, array['owner']), 'has_company_role: admin is not owner');
select throws_ok(format($$insert into public.company_members (company_id, user_id, role) values (%L, %L, 'member')$$,
                        :company_a, :'outsider'), '42501', null,
  'an admin cannot write memberships either (service role only)');
reset role;
select tests.authenticate_as('owner_a');
select ok(private.has_company_role(:company_a, array['owner']), 'has_company_role: owner is owner');
select is((select count(*)::int from public.company_members), 3, 'the owner sees the company''s 3 memberships');

-- company B, outsider ----------------------------------------------------------------------
reset role;
select tests.authenticate_as('owner_b');
select results_eq($$select user_id from public.company_members$$,
  format($$values (%L::uuid)$$, :'owner_b'), 'the owner of B sees only B''s membership');
reset role;
select tests.authenticate_as('outsider');
select is((select count(*)::int from public.company_members), 0, 'an outsider sees no membership');
select ok(not private.is_company_member(:company_a), 'is_company_member: false for an outsider');

-- service role -------------------------------------------------------------------------------
reset role;
select tests.authenticate_as_service_role();
select is((select count(*)::int from public.company_members where company_id in (:company_a, :company_b)), 4,
  'the service role sees every membership');
select lives_ok(format($$insert into public.company_members (company_id, user_id, role) values (%L, %L, 'member')$$,
                       :company_b, :'outsider'), 'the service role adds memberships');
select ok(not private.is_company_member(:company_a),
  'is_company_member: false for the service role (no auth.uid())');

-- deleting a user removes their memberships --------------------------------------------------
reset role;
delete from auth.users where id = :'outsider';
select is((select count(*)::int from public.company_members where user_id = :'outsider'), 0,
  'memberships are deleted with the user');

select * from finish();
rollback;
