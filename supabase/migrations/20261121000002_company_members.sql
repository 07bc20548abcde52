/*
 * Company membership: who belongs to which company, with which role.
 *
 * This is the single integration point with the host application. Policies never read
 * this table directly: they call `private.is_company_member()` and
 * `private.has_company_role()`. An app with its own membership model (basejump accounts,
 * an `employees` table, JWT app_metadata, ...) rewrites only those two functions.
 *
 * Members read the membership rows of their own companies. Only the service role writes
 * (the host application's backend provisions memberships).
 */

-- ---------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------
create table public.company_members (
  company_id uuid not null,
  user_id    uuid not null references auth.users (id) on delete cascade,
  role       text not null default 'member'
             constraint company_members_role_check check (role in ('owner', 'admin', 'member')),
  created_at timestamptz not null default now(),
  constraint company_members_pkey primary key (company_id, user_id)
);

comment on table public.company_members is
  'Membership of users in companies (owner | admin | member). Written by the service role only.';

-- ---------------------------------------------------------------------------------------
-- Indexes
-- ---------------------------------------------------------------------------------------
-- "Which companies does this user belong to": leads with user_id (also covers the FK).
create unique index company_members_user_id_company_id_idx
  on public.company_members (user_id, company_id);

-- ---------------------------------------------------------------------------------------
-- Functions
-- ---------------------------------------------------------------------------------------

/*
 * private.is_company_member(p_company_id) -> boolean
 * True when the current user (auth.uid()) is a member of the company, whatever the role.
 * False for anonymous callers, the service role (no auth.uid()) and a null company.
 * SECURITY DEFINER so policies on company_members itself can call it without recursion.
 */
create or replace function private.is_company_member(p_company_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1
    from public.company_members m
    where m.company_id = p_company_id
      and m.user_id = (select auth.uid())
  );
$$;

/*
 * private.has_company_role(p_company_id, p_roles) -> boolean
 * True when the current user (auth.uid()) is a member of the company with one of p_roles
 * (e.g. array['owner','admin']). False otherwise, including for null arguments.
 */
create or replace function private.has_company_role(p_company_id uuid, p_roles text[])
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1
    from public.company_members m
    where m.company_id = p_company_id
      and m.user_id = (select auth.uid())
      and m.role = any (p_roles)
  );
$$;

-- ---------------------------------------------------------------------------------------
-- RLS
-- ---------------------------------------------------------------------------------------
alter table public.company_members enable row level security;

-- Members see every membership row of the companies they belong to (who else is there).
create policy "Members can read memberships of their companies"
  on public.company_members
  for select
  to authenticated
  using (private.is_company_member(company_id));

-- No insert/update/delete policy: writes are service-role only.

-- ---------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------
revoke all on table public.company_members from public, anon, authenticated;
grant select on table public.company_members to authenticated;
grant all on table public.company_members to service_role;

revoke all on function private.is_company_member(uuid) from public, anon, authenticated, service_role;
revoke all on function private.has_company_role(uuid, text[]) from public, anon, authenticated, service_role;
grant execute on function private.is_company_member(uuid) to authenticated, service_role;
grant execute on function private.has_company_role(uuid, text[]) to authenticated, service_role;
