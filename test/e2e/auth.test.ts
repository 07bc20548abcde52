// The local /auth/v1 as supabase-js uses it against a hosted project: sign-up signs in at once,
// password sign-in, refresh-token rotation, getUser, updateUser, signOut, GoTrue's error codes.
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { decodeJwt } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../src/stack/config.ts';
import { adminSql, ANON_KEY, closeAdminSql, SUPABASE_URL } from '../helpers/stack.ts';

const run = promisify(execFile);
const client = (): SupabaseClient =>
  createClient(SUPABASE_URL, ANON_KEY, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  });
const email = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.test`;
const PASSWORD = 'correct horse 1';

afterAll(closeAdminSql);

describe('supabase.auth against the local stack', () => {
  it('signUp signs the user up and in at once, with a bcrypt hash and GoTrue claims', async () => {
    const supabase = client();
    const address = email('signup');
    const { data, error } = await supabase.auth.signUp({
      email: address.toUpperCase(),
      password: PASSWORD,
      options: { data: { team: 'ops' } },
    });
    expect(error).toBeNull();
    expect(data.session?.access_token).toBeTruthy();
    expect(data.user?.email).toBe(address);
    expect(data.user?.email_confirmed_at).toBeTruthy();
    expect(data.user?.user_metadata).toEqual({ team: 'ops' });
    expect(data.user?.identities?.length).toBe(1);

    const claims = decodeJwt(data.session!.access_token);
    expect(claims).toMatchObject({
      sub: data.user!.id,
      role: 'authenticated',
      aud: 'authenticated',
      email: address,
      aal: 'aal1',
      user_metadata: { team: 'ops' },
    });
    expect(claims.session_id).toEqual(expect.any(String));
    expect(claims.amr).toEqual([{ method: 'password', timestamp: expect.any(Number) }]);
    expect(claims.exp! - claims.iat!).toBe(3600);

    const [row] = await adminSql()`select encrypted_password, confirmed_at from auth.users where id = ${data.user!.id}`;
    expect(row!.encrypted_password).toMatch(/^\$2[ab]\$10\$/);
    expect(row!.confirmed_at).not.toBeNull();

    // The session works against PostgREST like a hosted project's: RLS sees auth.uid().
    const { data: companies, error: rpcError } = await supabase.rpc('get_dashboard_companies');
    expect(rpcError).toBeNull();
    expect(companies).toEqual([]);
  });

  it('refuses a second sign-up, a weak password and a malformed e-mail with GoTrue codes', async () => {
    const address = email('dup');
    expect((await client().auth.signUp({ email: address, password: PASSWORD })).error).toBeNull();
    const dup = await client().auth.signUp({ email: address, password: PASSWORD });
    expect(dup.error).toMatchObject({ status: 422, code: 'user_already_exists' });

    const weak = await client().auth.signUp({ email: email('weak'), password: '12345' });
    expect(weak.error).toMatchObject({ status: 422, code: 'weak_password', name: 'AuthWeakPasswordError' });

    const bad = await client().auth.signUp({ email: 'not-an-email', password: PASSWORD });
    expect(bad.error).toMatchObject({ status: 400, code: 'email_address_invalid' });
  });

  it('signInWithPassword accepts the right password only (same error for an unknown e-mail)', async () => {
    const address = email('signin');
    await client().auth.signUp({ email: address, password: PASSWORD });
    const ok = await client().auth.signInWithPassword({ email: address, password: PASSWORD });
    expect(ok.error).toBeNull();
    expect(ok.data.user?.email).toBe(address);
    expect(ok.data.user?.last_sign_in_at).toBeTruthy();

    const wrong = await client().auth.signInWithPassword({ email: address, password: 'wrong password' });
    expect(wrong.error).toMatchObject({
      status: 400,
      code: 'invalid_credentials',
      message: 'Invalid login credentials',
    });
    expect(wrong.data.session).toBeNull();
    const unknown = await client().auth.signInWithPassword({ email: email('nobody'), password: PASSWORD });
    expect(unknown.error).toMatchObject({ status: 400, code: 'invalid_credentials' });
  });

  it('refreshSession rotates the refresh token; an unknown token is refresh_token_not_found', async () => {
    const supabase = client();
    const { data } = await supabase.auth.signUp({ email: email('refresh'), password: PASSWORD });
    const first = data.session!;
    const { data: refreshed, error } = await supabase.auth.refreshSession();
    expect(error).toBeNull();
    expect(refreshed.session!.refresh_token).not.toBe(first.refresh_token);
    expect(decodeJwt(refreshed.session!.access_token).session_id).toBe(decodeJwt(first.access_token).session_id);

    const rows = await adminSql()`select token, revoked, parent from auth.refresh_tokens
                                  where session_id = ${decodeJwt(first.access_token).session_id as string} order by id`;
    expect(rows.map((r) => [r.token, r.revoked, r.parent])).toEqual([
      [first.refresh_token, true, null],
      [refreshed.session!.refresh_token, false, first.refresh_token],
    ]);

    const unknown = await client().auth.refreshSession({ refresh_token: 'not-a-token' });
    expect(unknown.error).toMatchObject({ status: 400, code: 'refresh_token_not_found' });
  });

  it('getUser, updateUser and signOut behave as on a hosted project', async () => {
    const supabase = client();
    const address = email('user');
    const { data } = await supabase.auth.signUp({ email: address, password: PASSWORD });
    const token = data.session!.access_token;

    const got = await supabase.auth.getUser();
    expect(got.error).toBeNull();
    expect(got.data.user).toMatchObject({ id: data.user!.id, email: address, role: 'authenticated' });

    const updated = await supabase.auth.updateUser({ data: { display_name: 'Ada' }, password: 'a new password' });
    expect(updated.error).toBeNull();
    expect(updated.data.user?.user_metadata).toEqual({ display_name: 'Ada' });
    expect((await client().auth.signInWithPassword({ email: address, password: 'a new password' })).error).toBeNull();
    expect((await client().auth.signInWithPassword({ email: address, password: PASSWORD })).error?.code).toBe(
      'invalid_credentials',
    );

    expect((await supabase.auth.signOut()).error).toBeNull();
    // The signed-out session's access token no longer identifies a session.
    const after = await client().auth.getUser(token);
    expect(after.error).toMatchObject({ name: 'AuthSessionMissingError' });
    const refresh = await client().auth.refreshSession({ refresh_token: data.session!.refresh_token });
    expect(refresh.error).toMatchObject({ status: 400, code: 'refresh_token_not_found' });

    const bad = await client().auth.getUser('not.a.jwt');
    expect(bad.error).toMatchObject({ status: 403, code: 'bad_jwt' });
  });

  it('`npm run stack -- user add` creates an admin who signs in and reads their company figures', async () => {
    const address = email('cli-admin');
    const company = randomUUID();
    const { stdout } = await run(process.execPath, [
      '--import',
      'tsx',
      path.join(ROOT, 'src/stack/cli.ts'),
      'user',
      'add',
      address,
      '--company',
      company,
      '--role',
      'admin',
      '--password',
      PASSWORD,
    ], { cwd: ROOT, env: process.env });
    expect(stdout).toContain(`created user ${address}`);

    const supabase = client();
    const { error } = await supabase.auth.signInWithPassword({ email: address, password: PASSWORD });
    expect(error).toBeNull();
    const stats = await supabase.rpc('get_cache_stats', { p_company_id: company });
    expect(stats.error).toBeNull();
    expect(stats.data).toMatchObject({ company_id: company, entries: 0 });
    const companies = await supabase.rpc('get_dashboard_companies');
    expect(companies.data).toEqual([{ company_id: company, role: 'admin', is_admin: true, name: null }]);

    const bad = await run(process.execPath, [
      '--import',
      'tsx',
      path.join(ROOT, 'src/stack/cli.ts'),
      'user',
      'add',
      address,
      '--company',
      'acme',
    ], { cwd: ROOT, env: process.env }).catch((e: { stderr: string; code: number }) => e);
    expect((bad as { code: number }).code).toBe(1);
    expect((bad as { stderr: string }).stderr).toContain('--company must be a uuid');
  }, 120_000);
});
