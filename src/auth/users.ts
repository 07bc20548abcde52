// Users in auth.users as GoTrue keeps them: bcrypt password hashes ($2b$, cost 10 as GoTrue's
// default), an `email` identity, app_metadata { provider, providers }. Shared by the /auth/v1
// handler and `npm run stack -- user add`.
import { randomUUID } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type postgres from 'postgres';
import { errors } from './errors.ts';

/** GoTrue's default minimum password length (GOTRUE_PASSWORD_MIN_LENGTH). */
export const MIN_PASSWORD_LENGTH = 6;
const BCRYPT_COST = 10;
// GoTrue's own check is as loose: something@something.tld, no spaces.
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export interface UserRow {
  id: string;
  aud: string | null;
  role: string | null;
  email: string | null;
  encrypted_password: string | null;
  email_confirmed_at: Date | null;
  confirmed_at: Date | null;
  last_sign_in_at: Date | null;
  raw_app_meta_data: Record<string, unknown> | null;
  raw_user_meta_data: Record<string, unknown> | null;
  created_at: Date | null;
  updated_at: Date | null;
  phone: string | null;
  banned_until: Date | null;
  is_anonymous: boolean;
}

export function normalizeEmail(email: unknown): string {
  if (typeof email !== 'string' || email.trim() === '') throw errors.validation('To signup, please provide your email');
  const e = email.trim().toLowerCase();
  if (!EMAIL_RE.test(e) || e.length > 255) throw errors.emailInvalid();
  return e;
}

export function checkPassword(password: unknown): string {
  if (typeof password !== 'string' || password.length === 0) {
    throw errors.validation('Signup requires a valid password');
  }
  if ([...password].length < MIN_PASSWORD_LENGTH) throw errors.weakPassword(MIN_PASSWORD_LENGTH);
  if (password.length > 72) throw errors.validation('Password cannot be longer than 72 characters');
  return password;
}

export const hashPassword = (password: string) => bcrypt.hash(password, BCRYPT_COST);
export const passwordMatches = (password: string, hash: string | null) =>
  hash ? bcrypt.compare(password, hash) : Promise.resolve(false);

export async function findUserByEmail(sql: postgres.Sql, email: string): Promise<UserRow | undefined> {
  const [row] = await sql<UserRow[]>`select * from auth.users where email = ${email} and deleted_at is null`;
  return row;
}

export async function findUserById(sql: postgres.Sql, id: string): Promise<UserRow | undefined> {
  const [row] = await sql<UserRow[]>`select * from auth.users where id = ${id} and deleted_at is null`;
  return row;
}

/** Creates a confirmed email/password user (autoconfirm, as `supabase start` defaults); 422 user_already_exists when the email is taken. */
export async function createUser(
  sql: postgres.Sql,
  input: { email: string; password: string; userMetadata?: Record<string, unknown> },
): Promise<UserRow> {
  const email = normalizeEmail(input.email);
  const password = checkPassword(input.password);
  const hash = await hashPassword(password);
  const id = randomUUID();
  return sql.begin(async (tx) => {
    const [row] = await tx<UserRow[]>`
      insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
                              raw_app_meta_data, raw_user_meta_data, created_at, updated_at, is_anonymous)
      values ('00000000-0000-0000-0000-000000000000', ${id}, 'authenticated', 'authenticated', ${email}, ${hash}, now(),
              ${tx.json({ provider: 'email', providers: ['email'] })}, ${
      tx.json((input.userMetadata ?? {}) as postgres.JSONValue)
    },
              now(), now(), false)
      on conflict (email) where email is not null do nothing
      returning *`;
    if (!row) throw errors.userExists();
    await tx`
      insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at)
      values (${id}, ${id}, ${
      tx.json({ sub: id, email, email_verified: true, phone_verified: false })
    }, 'email', now())`;
    return row;
  }) as Promise<UserRow>;
}

/** Sets a user's password (the CLI's `user add --password` for an existing user, PUT /user). */
export async function setPassword(sql: postgres.Sql, userId: string, password: string) {
  const hash = await hashPassword(checkPassword(password));
  await sql`update auth.users set encrypted_password = ${hash}, updated_at = now() where id = ${userId}`;
}

const iso = (d: Date | null) => (d ? d.toISOString() : undefined);

/** The user object GoTrue returns (GET /user, sessions). */
export async function userJson(sql: postgres.Sql, u: UserRow) {
  const identities = await sql<
    {
      id: string;
      provider_id: string;
      identity_data: unknown;
      provider: string;
      email: string | null;
      last_sign_in_at: Date | null;
      created_at: Date;
      updated_at: Date;
    }[]
  >`
    select id, provider_id, identity_data, provider, email, last_sign_in_at, created_at, updated_at
    from auth.identities where user_id = ${u.id} order by created_at`;
  return {
    id: u.id,
    aud: u.aud ?? 'authenticated',
    role: u.role ?? 'authenticated',
    email: u.email ?? '',
    email_confirmed_at: iso(u.email_confirmed_at),
    phone: u.phone ?? '',
    confirmed_at: iso(u.confirmed_at ?? u.email_confirmed_at),
    last_sign_in_at: iso(u.last_sign_in_at),
    app_metadata: u.raw_app_meta_data ?? {},
    user_metadata: u.raw_user_meta_data ?? {},
    identities: identities.map((i) => ({
      identity_id: i.id,
      id: i.provider_id,
      user_id: u.id,
      identity_data: i.identity_data,
      provider: i.provider,
      last_sign_in_at: iso(i.last_sign_in_at),
      created_at: iso(i.created_at),
      updated_at: iso(i.updated_at),
      email: i.email ?? undefined,
    })),
    created_at: iso(u.created_at),
    updated_at: iso(u.updated_at),
    is_anonymous: u.is_anonymous,
  };
}
