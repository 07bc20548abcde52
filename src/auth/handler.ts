// The password-auth subset of GoTrue (/auth/v1) that supabase-js uses: signup (signed up and in
// at once: e-mail autoconfirm, as `supabase start` defaults), token (password, refresh_token),
// user (GET, PUT), logout, settings, health. Mounted by the local gateway (src/stack/server.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { jwtVerify } from 'jose';
import postgres from 'postgres';
import { API_VERSION, AuthError, errorBody, errors } from './errors.ts';
import { refresh, type SessionConfig, signIn, signOut } from './sessions.ts';
import {
  checkPassword,
  createUser,
  findUserByEmail,
  findUserById,
  hashPassword,
  normalizeEmail,
  passwordMatches,
  userJson,
} from './users.ts';

const MAX_BODY_BYTES = 64 * 1024;

// Kong's CORS for /auth/v1 on a hosted project.
const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, PUT, DELETE, OPTIONS',
  'access-control-allow-headers': 'authorization, x-client-info, apikey, content-type, x-supabase-api-version',
  'access-control-expose-headers': 'x-supabase-api-version',
  'access-control-max-age': '3600',
};

export interface AuthHandlerOptions extends SessionConfig {
  dbUrl: string;
}

export interface AuthHandler {
  handle(req: IncomingMessage, res: ServerResponse, path: string, search: URLSearchParams): Promise<void>;
  close(): Promise<void>;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw errors.tooLarge();
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw errors.badJson((e as Error).message);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw errors.badJson('expected a JSON object');
  return body as Record<string, unknown>;
}

function bearer(req: IncomingMessage): string {
  const h = req.headers.authorization ?? '';
  const m = /^bearer\s+(\S+)$/i.exec(h);
  if (!m) throw errors.noAuthorization();
  return m[1]!;
}

export function createAuthHandler(opts: AuthHandlerOptions): AuthHandler {
  const sql = postgres(opts.dbUrl, { max: 4, onnotice: () => {}, idle_timeout: 30 });
  const key = new TextEncoder().encode(opts.jwtSecret);

  /** The signed-in user behind the bearer token, as GoTrue's requireAuthentication. */
  async function authenticated(req: IncomingMessage) {
    let claims: Record<string, unknown>;
    try {
      ({ payload: claims } = await jwtVerify(bearer(req), key, { algorithms: ['HS256'] }));
    } catch (e) {
      if (e instanceof AuthError) throw e;
      throw errors.badJwt((e as Error).message);
    }
    if (typeof claims.sub !== 'string' || claims.sub === '') throw errors.badJwt('missing sub claim');
    const user = await findUserById(sql, claims.sub).catch(() => undefined);
    if (!user) throw errors.userNotFound();
    const sessionId = typeof claims.session_id === 'string' ? claims.session_id : undefined;
    if (sessionId) {
      const [s] = await sql`select 1 from auth.sessions where id = ${sessionId} and user_id = ${user.id}`;
      if (!s) throw errors.sessionNotFound();
    }
    return { user, sessionId };
  }

  const meta = (req: IncomingMessage) => ({ userAgent: req.headers['user-agent'], ip: req.socket.remoteAddress });

  async function route(req: IncomingMessage, path: string, search: URLSearchParams): Promise<[number, unknown]> {
    const method = req.method ?? 'GET';
    switch (path) {
      case '/health':
        return [200, {
          version: 'local',
          name: 'GoTrue',
          description: 'GoTrue-compatible password auth of the supabase-ai-cache local stack',
        }];
      case '/settings':
        return [200, {
          external: { email: true, phone: false, anonymous_users: false },
          disable_signup: false,
          mailer_autoconfirm: true,
          phone_autoconfirm: false,
          sms_provider: '',
          saml_enabled: false,
        }];
      case '/.well-known/jwks.json':
        return [200, { keys: [] }]; // HS256 only: supabase-js then verifies through GET /user
      case '/signup': {
        if (method !== 'POST') throw errors.methodNotAllowed();
        const body = await readJson(req);
        if (body.phone && !body.email) throw errors.validation('Phone signups are not enabled on the local stack');
        const data = body.data;
        const user = await createUser(sql, {
          email: normalizeEmail(body.email),
          password: body.password as string,
          userMetadata: typeof data === 'object' && data !== null && !Array.isArray(data)
            ? (data as Record<string, unknown>)
            : {},
        });
        return [200, await signIn(sql, opts, user, meta(req))];
      }
      case '/token': {
        if (method !== 'POST') throw errors.methodNotAllowed();
        const grant = search.get('grant_type');
        const body = await readJson(req);
        if (grant === 'password') {
          if (typeof body.password !== 'string' || body.password === '') throw errors.validation('missing password');
          if (typeof body.email !== 'string' || body.email === '') throw errors.validation('missing email or phone');
          const user = await findUserByEmail(sql, body.email.trim().toLowerCase());
          // Same answer for an unknown e-mail and a wrong password: no account enumeration.
          if (!user || !(await passwordMatches(body.password, user.encrypted_password))) {
            throw errors.invalidCredentials();
          }
          if (user.banned_until && user.banned_until > new Date()) throw errors.userBanned();
          return [200, await signIn(sql, opts, user, meta(req))];
        }
        if (grant === 'refresh_token') return [200, await refresh(sql, opts, body.refresh_token)];
        throw errors.grantType();
      }
      case '/user': {
        const { user } = await authenticated(req);
        if (method === 'GET') return [200, await userJson(sql, user)];
        if (method !== 'PUT') throw errors.methodNotAllowed();
        const body = await readJson(req);
        if (body.email !== undefined && body.email !== user.email) {
          throw errors.validation('Changing the e-mail address is not supported by the local stack');
        }
        if (body.password !== undefined) {
          const password = checkPassword(body.password);
          if (await passwordMatches(password, user.encrypted_password)) throw errors.samePassword();
          await sql`update auth.users set encrypted_password = ${await hashPassword(
            password,
          )}, updated_at = now() where id = ${user.id}`;
        }
        if (body.data !== undefined) {
          if (typeof body.data !== 'object' || body.data === null || Array.isArray(body.data)) {
            throw errors.validation('data must be an object');
          }
          // GoTrue merges the keys given into user_metadata; a null value removes the key.
          await sql`update auth.users
                    set raw_user_meta_data = jsonb_strip_nulls(coalesce(raw_user_meta_data, '{}'::jsonb) || ${
            sql.json(body.data as postgres.JSONValue)
          }),
                        updated_at = now()
                    where id = ${user.id}`;
        }
        return [200, await userJson(sql, (await findUserById(sql, user.id))!)];
      }
      case '/logout': {
        if (method !== 'POST') throw errors.methodNotAllowed();
        const { user, sessionId } = await authenticated(req);
        const scope = search.get('scope') ?? 'global';
        if (!['global', 'local', 'others'].includes(scope)) {
          throw errors.validation(`Unsupported logout scope "${scope}"`);
        }
        await signOut(sql, user.id, sessionId, scope);
        return [204, undefined];
      }
      default:
        throw errors.notFound(path);
    }
  }

  return {
    async handle(req, res, path, search) {
      const apiVersion = req.headers['x-supabase-api-version'] as string | undefined;
      const headers: Record<string, string> = { ...CORS, 'x-supabase-api-version': API_VERSION };
      if (req.method === 'OPTIONS') {
        res.writeHead(204, headers);
        return void res.end();
      }
      let status: number;
      let body: unknown;
      try {
        [status, body] = await route(req, path.replace(/\/+$/, '') || '/', search);
      } catch (e) {
        if (!(e instanceof AuthError)) console.error('auth:', e);
        const err = e instanceof AuthError
          ? e
          : new AuthError(500, 'unexpected_failure', 'Unexpected failure in the local auth server');
        status = err.status;
        body = errorBody(err, apiVersion);
      }
      if (body === undefined) {
        res.writeHead(status, headers);
        return void res.end();
      }
      res.writeHead(status, { ...headers, 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}
