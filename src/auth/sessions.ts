// Sessions as GoTrue runs them: one auth.sessions row per sign-in, an HS256 access token signed
// with the project's JWT secret (GoTrue's claims), and a refresh token that rotates on every use
// (the used token is revoked, its child carries `parent`). A revoked token presented again
// within the reuse interval gets the session's current token (two tabs refreshing at once);
// later, it is a replay: the whole session is ended.
import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type postgres from 'postgres';
import { errors } from './errors.ts';
import { userJson, type UserRow } from './users.ts';

export const ACCESS_TOKEN_SECONDS = 3600;
const REUSE_INTERVAL_SECONDS = 10;

export interface SessionConfig {
  jwtSecret: string;
  /** `iss` of access tokens: <API URL>/auth/v1, as GoTrue sets it. */
  issuer: string;
}

const newRefreshToken = () => randomBytes(9).toString('base64url'); // 12 characters, as GoTrue's

export async function accessToken(cfg: SessionConfig, u: UserRow, sessionId: string, signedInAt: number) {
  const iat = Math.floor(Date.now() / 1000);
  const exp = iat + ACCESS_TOKEN_SECONDS;
  const token = await new SignJWT({
    iss: cfg.issuer,
    sub: u.id,
    aud: u.aud ?? 'authenticated',
    exp,
    iat,
    email: u.email ?? '',
    phone: u.phone ?? '',
    app_metadata: u.raw_app_meta_data ?? {},
    user_metadata: u.raw_user_meta_data ?? {},
    role: u.role ?? 'authenticated',
    aal: 'aal1',
    amr: [{ method: 'password', timestamp: signedInAt }],
    session_id: sessionId,
    is_anonymous: u.is_anonymous,
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(cfg.jwtSecret));
  return { token, exp };
}

async function sessionResponse(
  sql: postgres.Sql,
  cfg: SessionConfig,
  u: UserRow,
  sessionId: string,
  signedInAt: number,
  refreshToken: string,
) {
  const { token, exp } = await accessToken(cfg, u, sessionId, signedInAt);
  return {
    access_token: token,
    token_type: 'bearer',
    expires_in: ACCESS_TOKEN_SECONDS,
    expires_at: exp,
    refresh_token: refreshToken,
    user: await userJson(sql, u),
  };
}

/** A new session for a user who just proved their password (sign-in, sign-up). */
export async function signIn(
  sql: postgres.Sql,
  cfg: SessionConfig,
  user: UserRow,
  meta: { userAgent?: string; ip?: string },
) {
  const sessionId = randomUUID();
  const token = newRefreshToken();
  const [u] = await sql.begin(async (tx) => {
    await tx`insert into auth.sessions (id, user_id, aal, user_agent, ip)
             values (${sessionId}, ${user.id}, 'aal1', ${meta.userAgent ?? null}, ${meta.ip ?? null})`;
    await tx`insert into auth.refresh_tokens (instance_id, token, user_id, revoked, session_id)
             values ('00000000-0000-0000-0000-000000000000', ${token}, ${user.id}, false, ${sessionId})`;
    await tx`update auth.identities set last_sign_in_at = now() where user_id = ${user.id} and provider = 'email'`;
    return tx<UserRow[]>`update auth.users set last_sign_in_at = now() where id = ${user.id} returning *`;
  }) as unknown as UserRow[];
  return sessionResponse(sql, cfg, u!, sessionId, Math.floor(Date.now() / 1000), token);
}

interface TokenRow {
  id: string;
  token: string;
  user_id: string;
  revoked: boolean;
  session_id: string;
  updated_at: Date;
  session_created_at: Date;
}

/** grant_type=refresh_token: rotates the token (see the top of this file). */
export async function refresh(sql: postgres.Sql, cfg: SessionConfig, presented: unknown) {
  if (typeof presented !== 'string' || presented === '') throw errors.refreshNotFound();
  const result = await sql.begin(async (tx) => {
    const [row] = await tx<TokenRow[]>`
      select t.id, t.token, t.user_id, t.revoked, t.session_id, t.updated_at, s.created_at as session_created_at
      from auth.refresh_tokens t join auth.sessions s on s.id = t.session_id
      where t.token = ${presented}
      for update of t`;
    if (!row) throw errors.refreshNotFound();
    const [user] = await tx<UserRow[]>`select * from auth.users where id = ${row.user_id} and deleted_at is null`;
    if (!user) throw errors.refreshNotFound();
    if (user.banned_until && user.banned_until > new Date()) throw errors.userBanned();
    let next: string;
    if (row.revoked) {
      const withinReuse = Date.now() - row.updated_at.getTime() <= REUSE_INTERVAL_SECONDS * 1000;
      const [active] = withinReuse
        ? await tx<{ token: string }[]>`
            select token from auth.refresh_tokens
            where session_id = ${row.session_id} and not revoked order by id desc limit 1`
        : [];
      if (!active) {
        await tx`delete from auth.sessions where id = ${row.session_id}`;
        return { replay: true as const };
      }
      next = active.token;
    } else {
      next = newRefreshToken();
      await tx`update auth.refresh_tokens set revoked = true, updated_at = now() where id = ${row.id}`;
      await tx`insert into auth.refresh_tokens (instance_id, token, user_id, revoked, parent, session_id)
               values ('00000000-0000-0000-0000-000000000000', ${next}, ${row.user_id}, false, ${row.token}, ${row.session_id})`;
      await tx`update auth.sessions set refreshed_at = now() at time zone 'utc', updated_at = now() where id = ${row.session_id}`;
    }
    return {
      replay: false as const,
      user,
      sessionId: row.session_id,
      next,
      signedInAt: Math.floor(row.session_created_at.getTime() / 1000),
    };
  });
  // The replay's session is deleted even though the request fails.
  if (result.replay) throw errors.refreshAlreadyUsed();
  return sessionResponse(sql, cfg, result.user, result.sessionId, result.signedInAt, result.next);
}

/** POST /logout?scope=global|local|others. */
export async function signOut(sql: postgres.Sql, userId: string, sessionId: string | undefined, scope: string) {
  if (scope === 'local') {
    if (sessionId) await sql`delete from auth.sessions where id = ${sessionId}`;
  } else if (scope === 'others') {
    await sql`delete from auth.sessions where user_id = ${userId} and id is distinct from ${sessionId ?? null}::uuid`;
  } else {
    await sql`delete from auth.sessions where user_id = ${userId}`;
  }
}
