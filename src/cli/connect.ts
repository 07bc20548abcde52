// Two ways to reach the same admin RPCs, chosen from flags or the environment:
//   - a direct database connection (SUPABASE_DB_URL): `select public.fn(p_x => $1, ...)`
//   - the REST API (SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY): `supabase.rpc('fn', {...})`
// Both call the same SQL functions, so every command behaves identically over either.
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import postgres from 'postgres';
import { CliError, EXIT, usageError } from './errors.ts';

export type RpcArgs = Record<string, string | number | boolean | null | undefined>;

export interface Backend {
  readonly mode: 'db' | 'api';
  /** Where it connects, with any password masked: for messages. */
  readonly target: string;
  rpc<T>(fn: string, args?: RpcArgs): Promise<T>;
  close(): Promise<void>;
}

export interface ConnectionFlags {
  dbUrl?: string;
  url?: string;
  serviceKey?: string;
}

export type Connection = { mode: 'db'; dbUrl: string } | { mode: 'api'; url: string; serviceKey: string };

/**
 * Flags win over the environment; within each, a database URL wins over the API URL:
 * --db-url, else --url (+ --service-key or SUPABASE_SERVICE_ROLE_KEY), else SUPABASE_DB_URL,
 * else SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY.
 */
export function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Connection {
  const key = flags.serviceKey ?? env.SUPABASE_SERVICE_ROLE_KEY;
  if (flags.dbUrl) return { mode: 'db', dbUrl: flags.dbUrl };
  if (flags.url) return apiConnection(flags.url, key);
  if (env.SUPABASE_DB_URL) return { mode: 'db', dbUrl: env.SUPABASE_DB_URL };
  if (env.SUPABASE_URL) return apiConnection(env.SUPABASE_URL, key);
  throw usageError(
    'no connection configured',
    'set SUPABASE_DB_URL (a Postgres connection string), or SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY (or pass --db-url / --url --service-key)',
  );
}

function apiConnection(url: string, key: string | undefined): Connection {
  if (!key) {
    throw usageError(
      'SUPABASE_SERVICE_ROLE_KEY is not set',
      'the REST API mode needs the service-role key (or pass --service-key)',
    );
  }
  return { mode: 'api', url, serviceKey: key };
}

export function connect(conn: Connection): Backend {
  return conn.mode === 'db' ? dbBackend(conn.dbUrl) : apiBackend(conn.url, conn.serviceKey);
}

// ---------------------------------------------------------------------------------------------
// Direct database connection
// ---------------------------------------------------------------------------------------------

/** SQL types of the RPC parameters, for explicit casts (one spelling per name across the RPCs). */
const PARAM_TYPES: Record<string, string> = {
  p_company_id: 'uuid',
  p_limit: 'integer',
  p_cache_type: 'text',
  p_global_only: 'boolean',
  p_prompt_chars: 'integer',
  p_older_than_seconds: 'bigint',
  p_expired_only: 'boolean',
  p_model: 'text',
  p_key_version: 'smallint',
  p_all: 'boolean',
  p_batch_size: 'integer',
};

export function maskUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return raw.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
}

function dbBackend(dbUrl: string): Backend {
  const target = maskUrl(dbUrl);
  if (!/^postgres(ql)?:\/\//.test(dbUrl)) {
    throw new CliError(
      `not a Postgres connection string: ${target}`,
      EXIT.FAILURE,
      'invalid_url',
      'expected postgresql://user:password@host:port/database',
    );
  }
  let sql: postgres.Sql;
  try {
    sql = postgres(dbUrl, {
      max: 1,
      prepare: false, // works through Supavisor / PgBouncer in transaction mode too
      connect_timeout: 10,
      idle_timeout: 0,
      onnotice: () => {},
      connection: { application_name: 'ai-cache-cli' },
    });
  } catch (e) {
    throw new CliError(`invalid database URL ${target}: ${(e as Error).message}`, EXIT.FAILURE, 'invalid_url');
  }
  return {
    mode: 'db',
    target,
    async rpc<T>(fn: string, args: RpcArgs = {}): Promise<T> {
      const names = Object.keys(args).filter((k) => args[k] !== undefined);
      for (const n of names) if (!PARAM_TYPES[n]) throw new Error(`no SQL type known for parameter ${n}`);
      const list = names.map((n, i) => `${n} => $${i + 1}::${PARAM_TYPES[n]}`).join(', ');
      try {
        const rows = await sql.unsafe(`select public.${fn}(${list}) as result`, names.map((n) => args[n]) as never[]);
        return rows[0].result as T;
      } catch (e) {
        throw dbError(e as DbErrorLike, fn, target);
      }
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}

interface DbErrorLike extends Error {
  code?: string;
  errno?: string;
  hint?: string;
  detail?: string;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ECONNRESET',
  'EAI_AGAIN',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
]);

function dbError(e: DbErrorLike, fn: string, target: string): CliError {
  const code = e.code ?? e.errno ?? '';
  if (NETWORK_CODES.has(code)) {
    return new CliError(
      `cannot connect to the database at ${target} (${code})`,
      EXIT.FAILURE,
      'connection_failed',
      'check SUPABASE_DB_URL and that the database is running',
    );
  }
  if (code === '28P01' || code === '28000') {
    return new CliError(
      `the database refused the credentials in ${target}: ${e.message}`,
      EXIT.FAILURE,
      'auth_failed',
      'check the user and password in SUPABASE_DB_URL',
    );
  }
  if (code === '3D000') {
    return new CliError(
      `${e.message} (${target})`,
      EXIT.FAILURE,
      'connection_failed',
      'check the database name in SUPABASE_DB_URL',
    );
  }
  if (code === '42883' || code === '3F000') {
    return new CliError(
      `public.${fn} is missing from the database at ${target}`,
      EXIT.FAILURE,
      'missing_rpc',
      'apply the migrations: supabase db push',
    );
  }
  if (code === '42501') {
    return new CliError(
      `permission denied for public.${fn}: ${e.message}`,
      EXIT.FAILURE,
      'permission_denied',
      'connect as postgres (or a role granted service_role)',
    );
  }
  if (code === '22023') return new CliError(e.message, EXIT.USAGE, 'invalid_argument', e.hint);
  if (/^[0-9A-Z]{5}$/.test(code)) {
    return new CliError(`database error ${code}: ${e.message}`, EXIT.FAILURE, 'database_error', e.hint);
  }
  return new CliError(`cannot use the database at ${target}: ${e.message}`, EXIT.FAILURE, 'connection_failed');
}

// ---------------------------------------------------------------------------------------------
// REST API (PostgREST protocol) with the service-role key
// ---------------------------------------------------------------------------------------------

function apiBackend(url: string, serviceKey: string): Backend {
  let parsed: URL;
  try {
    parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new CliError(
      `not an API URL: ${url}`,
      EXIT.FAILURE,
      'invalid_url',
      'SUPABASE_URL looks like https://<project>.supabase.co',
    );
  }
  const target = parsed.origin;
  let client: SupabaseClient;
  try {
    client = createClient(url, serviceKey, {
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
      global: {
        headers: { 'x-client-info': 'ai-cache-cli' },
        fetch: (input, init) => fetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(60_000) }),
      },
    });
  } catch (e) {
    throw new CliError(`cannot use the API at ${target}: ${(e as Error).message}`, EXIT.FAILURE, 'invalid_url');
  }
  return {
    mode: 'api',
    target,
    async rpc<T>(fn: string, args: RpcArgs = {}): Promise<T> {
      const body: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(args)) if (v !== undefined) body[k] = v;
      const { data, error, status } = await client.rpc(fn, body);
      if (error) throw apiError(error, status, fn, target);
      return data as T;
    },
    async close() {},
  };
}

interface ApiErrorLike {
  message: string;
  code?: string;
  details?: string | null;
  hint?: string | null;
}

function apiError(error: ApiErrorLike, status: number, fn: string, target: string): CliError {
  const code = error.code ?? '';
  if (!status) {
    const text = `${error.message}\n${error.details ?? ''}`;
    const cause =
      /(ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ECONNRESET|EAI_AGAIN|timeout|aborted)/i.exec(text)
        ?.[1] ??
        /Caused by: (?:\w*Error: )?([^\n]+)/.exec(text)?.[1];
    return new CliError(
      `cannot reach the API at ${target}${cause ? ` (${cause})` : ''}`,
      EXIT.FAILURE,
      'connection_failed',
      'check SUPABASE_URL and that the API is running',
    );
  }
  // PostgREST answers 401 (anon) or 403 (a user) with 42501 when the key is valid but not the service role's.
  if (code === '42501' || status === 403) {
    return new CliError(
      `the key is not allowed to call ${fn} (${status}: ${error.message})`,
      EXIT.FAILURE,
      'permission_denied',
      'the admin RPCs need the service-role key, not the anon key or a user token',
    );
  }
  if (status === 401 || code === 'PGRST301' || code === 'PGRST302') {
    return new CliError(
      `the API at ${target} rejected the key (${status}: ${error.message})`,
      EXIT.FAILURE,
      'auth_failed',
      'check SUPABASE_SERVICE_ROLE_KEY: it must be the service-role key of this project',
    );
  }
  if (code === 'PGRST202' || code === '42883') {
    return new CliError(
      `the API at ${target} has no RPC ${fn}`,
      EXIT.FAILURE,
      'missing_rpc',
      'apply the migrations (supabase db push); for a new function the API may need a schema reload',
    );
  }
  if (code === '22023') return new CliError(error.message, EXIT.USAGE, 'invalid_argument', error.hint ?? undefined);
  if (status === 404) {
    return new CliError(
      `${target} does not answer like a Supabase API (404 for /rest/v1/rpc/${fn})`,
      EXIT.FAILURE,
      'connection_failed',
      'check SUPABASE_URL',
    );
  }
  return new CliError(
    `API error ${status}${code ? ` ${code}` : ''}: ${error.message}`,
    EXIT.FAILURE,
    'api_error',
    error.hint ?? undefined,
  );
}
