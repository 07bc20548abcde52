// `npm run stack -- user add EMAIL --company ID --role admin [--password P]`: a user who can
// sign in with supabase.auth.signInWithPassword, and their company membership.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { AuthError } from './errors.ts';
import { createUser, findUserByEmail, normalizeEmail, setPassword } from './users.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const ROLES = ['owner', 'admin', 'member'] as const;

export interface AddUserInput {
  email: string;
  password?: string;
  company?: string;
  role: string;
}
export interface AddUserResult {
  id: string;
  email: string;
  created: boolean;
  password?: string;
  company?: string;
  role?: string;
}

export async function addUser(dbUrl: string, input: AddUserInput): Promise<AddUserResult> {
  if (input.company !== undefined && !UUID_RE.test(input.company)) {
    throw new Error(`--company must be a uuid, got "${input.company}"`);
  }
  if (!(ROLES as readonly string[]).includes(input.role)) {
    throw new Error(`--role must be one of ${ROLES.join(', ')}, got "${input.role}"`);
  }
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const email = normalizeEmail(input.email);
    let user = await findUserByEmail(sql, email);
    let password = input.password;
    let created = false;
    if (!user) {
      // A generated password is printed once; the user can change it with supabase.auth.updateUser.
      password ??= randomBytes(12).toString('base64url');
      user = await createUser(sql, { email, password });
      created = true;
    } else if (password !== undefined) {
      await setPassword(sql, user.id, password);
    }
    if (input.company) {
      await sql`insert into public.company_members (company_id, user_id, role)
                values (${input.company}, ${user.id}, ${input.role})
                on conflict (company_id, user_id) do update set role = excluded.role`;
    }
    return {
      id: user.id,
      email,
      created,
      password: created && input.password === undefined ? password : undefined,
      company: input.company,
      role: input.company ? input.role : undefined,
    };
  } catch (e) {
    if (e instanceof AuthError) throw new Error(e.message);
    throw e;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
