// What end-to-end suites need from the running local stack (or a hosted project: only URLs and
// keys are read from the environment): users with real JWTs, companies, the simulated model.
import { randomUUID } from 'node:crypto';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { SignJWT } from 'jose';
import postgres from 'postgres';
import { stackEnv } from '../../src/stack/config.ts';

const defaults = stackEnv();
export const SUPABASE_URL = process.env.SUPABASE_URL ?? defaults.SUPABASE_URL;
export const ANON_KEY = process.env.SUPABASE_ANON_KEY ?? defaults.SUPABASE_ANON_KEY;
export const SERVICE_ROLE_KEY = process.env.SUPABASE_SERVICE_ROLE_KEY ?? defaults.SUPABASE_SERVICE_ROLE_KEY;
export const JWT_SECRET = process.env.SUPABASE_JWT_SECRET ?? defaults.SUPABASE_JWT_SECRET;
export const DB_URL = process.env.SUPABASE_DB_URL ?? defaults.SUPABASE_DB_URL;
export const OPENAI_BASE_URL = process.env.OPENAI_BASE_URL ?? defaults.OPENAI_BASE_URL;
export const SIM_ORIGIN = OPENAI_BASE_URL.replace(/\/v1\/?$/, '');
export const FUNCTIONS_URL = `${SUPABASE_URL}/functions/v1`;

let sqlClient: postgres.Sql | undefined;
/** A superuser connection for arranging fixtures (what a test would do in the SQL editor). */
export function adminSql(): postgres.Sql {
  return (sqlClient ??= postgres(DB_URL, { max: 2, onnotice: () => {} }));
}

export async function closeAdminSql() {
  await sqlClient?.end();
  sqlClient = undefined;
}

export interface TestUser {
  id: string;
  email: string;
  jwt: string;
  /** supabase-js as the app would create it for this signed-in user. */
  client: SupabaseClient;
}

export async function signJwt(
  claims: Record<string, unknown>,
  opts: { secret?: string; expiresIn?: string | number } = {},
) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime(opts.expiresIn ?? '1h')
    .sign(new TextEncoder().encode(opts.secret ?? JWT_SECRET));
}

export async function createUser(label = 'user'): Promise<TestUser> {
  const id = randomUUID();
  const email = `${label}-${id.slice(0, 8)}@example.test`;
  await adminSql()`insert into auth.users (id, email, aud, role) values (${id}, ${email}, 'authenticated', 'authenticated')`;
  const jwt = await signJwt({ sub: id, email, role: 'authenticated', aud: 'authenticated' });
  const client = createClient(SUPABASE_URL, ANON_KEY, {
    global: { headers: { Authorization: `Bearer ${jwt}` } },
    auth: { persistSession: false, autoRefreshToken: false },
  });
  return { id, email, jwt, client };
}

export async function createCompany(members: Array<[TestUser, 'owner' | 'admin' | 'member']>): Promise<string> {
  const companyId = randomUUID();
  for (const [user, role] of members) {
    await adminSql()`insert into public.company_members (company_id, user_id, role) values (${companyId}, ${user.id}, ${role})`;
  }
  return companyId;
}

export function serviceClient(): SupabaseClient {
  return createClient(SUPABASE_URL, SERVICE_ROLE_KEY, { auth: { persistSession: false, autoRefreshToken: false } });
}

/** A marker unique to one test, put in prompts so the simulated model's counters can be scoped to it. */
export function marker(label = 't'): string {
  return `${label}-${randomUUID().slice(0, 12)}`;
}

export async function simCalls(match: string): Promise<number> {
  const res = await fetch(`${SIM_ORIGIN}/_sim/stats?match=${encodeURIComponent(match)}`);
  const stats = (await res.json()) as { chat_completions: number };
  return stats.chat_completions;
}

export async function simFault(fault: Record<string, unknown>) {
  const res = await fetch(`${SIM_ORIGIN}/_sim/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(fault),
  });
  if (!res.ok) throw new Error(`sim fault refused: ${res.status} ${await res.text()}`);
}

/** Polls until `check` passes or the deadline expires (for effects that land asynchronously). */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 5_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let delay = 10;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > end) throw e;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 200);
    }
  }
}
