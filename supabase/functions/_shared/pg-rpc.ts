// The direct Postgres transport of callRpc: `select public.fn(p_x => ...)` over a small
// per-instance postgres.js pool, instead of an HTTP request to /rest/v1/rpc/fn.
//
// One call is ONE simple-protocol Query message holding two statements, which Postgres runs as
// one implicit transaction and answers in one round trip:
//   select set_config('role', …, true), set_config('request.jwt.claims', …, true), …;
//   select public.fn(p_a => '…', …)
// The first statement does what PostgREST does before every call (role, claims, search_path,
// a statement_timeout), all transaction-local, so nothing leaks to the next user of the
// connection: safe behind a transaction-mode pooler (Supavisor on port 6543), where prepared
// statements are unavailable, which is why values go inline as quoted literals (untyped, so
// Postgres resolves the function's parameter types exactly as it does for PostgREST's call).
import postgres from 'postgres';
import { decodeJwt, jwtVerify } from 'jose';
import { apiKeyRole, isOpaqueApiKey } from './api-keys.ts';
import { env, intEnv } from './env.ts';

/** What PostgREST would run the call as. */
export interface DbIdentity {
  role: string;
  /** request.jwt.claims, already serialized. */
  claims: string;
}

/** The same outcome shape as supabase-js `.rpc()`, so both transports share one error mapping. */
export interface RpcOutcome {
  data: unknown;
  error: { code: string; message: string } | null;
}

/** Roles PostgREST's authenticator can switch to; anything else never reaches `set role`. */
const API_ROLES = new Set(['anon', 'authenticated', 'service_role']);
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Result types PostgREST renders as JSON numbers, which postgres.js hands back as strings.
const NUMERIC_OIDS = new Set([20, 1700]);
const VOID_OID = 2278;

let pool: postgres.Sql | undefined;

/** The connection string the transport uses: AI_CACHE_DB_URL (e.g. the pooler's) or SUPABASE_DB_URL. */
export function directDbUrl(): string | undefined {
  return env('AI_CACHE_DB_URL') || env('SUPABASE_DB_URL') || undefined;
}

function sql(): postgres.Sql {
  return (pool ??= postgres(directDbUrl()!, {
    // Per function instance: the pooler multiplexes these onto its own server connections.
    max: intEnv('AI_CACHE_DB_POOL_SIZE', 4),
    // Transaction-mode poolers cannot keep prepared statements; every call is a simple query.
    prepare: false,
    // Skips a catalog query per new connection: no array types are read back.
    fetch_types: false,
    idle_timeout: intEnv('AI_CACHE_DB_IDLE_SECONDS', 30),
    connect_timeout: 5,
    onnotice: () => {},
    connection: { application_name: 'ai-cache-functions' },
  }));
}

/** Closes the pool (tests, graceful shutdown). */
export async function closePgPool(): Promise<void> {
  const p = pool;
  pool = undefined;
  await p?.end({ timeout: 1 });
}

/** A quoted literal of unknown type: Postgres casts it to the parameter's type, as with PostgREST's JSON. */
function literal(text: string | null): string {
  return text === null ? 'null' : "'" + text.replaceAll("'", "''") + "'";
}

/** Thrown before any SQL is sent, in the shape of the error Postgres itself would give. */
class InputError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** How PostgREST turns a JSON value into a parameter of this kind. */
export type ParamKind = 'json' | 'array' | 'other';

/** A Postgres array literal ('{"a","b"}') of a JSON array's items, as PostgREST builds it. */
function arrayText(items: unknown[]): string {
  const item = (x: unknown) =>
    x === null
      ? 'NULL'
      : '"' + (typeof x === 'object' ? JSON.stringify(x) : String(x)).replace(/[\\"]/g, (c) => '\\' + c) + '"';
  return '{' + items.map(item).join(',') + '}';
}

function valueText(value: unknown, kind: ParamKind | undefined): string | null {
  if (value === null) return null;
  if (kind === 'json') return JSON.stringify(value);
  if (kind === 'array' && Array.isArray(value)) return arrayText(value);
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export function callSql(fn: string, args: Record<string, unknown>, kinds: Record<string, ParamKind> = {}): string {
  if (!IDENT.test(fn)) throw new InputError('42883', `invalid function name ${JSON.stringify(fn)}`);
  const named: string[] = [];
  for (const [name, value] of Object.entries(args)) {
    // JSON.stringify (what supabase-js sends) drops undefined members: so do we.
    if (value === undefined) continue;
    if (!IDENT.test(name)) throw new InputError('42883', `invalid argument name ${JSON.stringify(name)}`);
    const text = valueText(value, kinds[name]);
    if (text?.includes('\u0000')) throw new InputError('22P05', 'unsupported Unicode escape sequence');
    named.push(`"${name}" => ${literal(text)}`);
  }
  return `select "public"."${fn}"(${named.join(', ')})`;
}

const signatures = new Map<string, Promise<Record<string, ParamKind>[]>>();

/**
 * The parameter kinds of each overload of public.<fn>, read from the catalog once per instance:
 * json/jsonb parameters take any JSON value (a string too), array parameters take JSON arrays.
 */
function paramKinds(fn: string): Promise<Record<string, ParamKind>[]> {
  let found = signatures.get(fn);
  if (!found) {
    found = sql().unsafe(`
      select p.proargnames[1:p.pronargs] as names,
             array(select case when t.typname in ('json', 'jsonb') then 'json'
                               when t.typcategory = 'A' then 'array' else 'other' end
                   from unnest(p.proargtypes::oid[]) with ordinality a(oid, n)
                   join pg_catalog.pg_type t on t.oid = a.oid order by a.n) as kinds
      from pg_catalog.pg_proc p
      where p.pronamespace = 'public'::regnamespace and p.proname = ${literal(fn)}`).simple()
      .then((rows) =>
        rows.map((r) => {
          const names = parseTextArray(r.names as string | string[] | null);
          const kinds = parseTextArray(r.kinds as string | string[]);
          return Object.fromEntries(names.map((n, i) => [n, kinds[i] as ParamKind]));
        })
      );
    signatures.set(fn, found);
    found.catch(() => signatures.delete(fn));
  }
  return found;
}

/** fetch_types is off, so arrays of names come back as Postgres text ('{a,b}'): plain identifiers only. */
function parseTextArray(v: string | string[] | null): string[] {
  if (v === null) return [];
  if (Array.isArray(v)) return v;
  return v.replace(/^\{|\}$/g, '').split(',').filter(Boolean).map((x) => x.replace(/^"|"$/g, ''));
}

/** The overload PostgREST would pick: every given argument is one of its parameters. */
async function kindsFor(fn: string, args: Record<string, unknown>): Promise<Record<string, ParamKind>> {
  const given = Object.keys(args).filter((k) => args[k] !== undefined);
  const overloads = await paramKinds(fn);
  return overloads.find((o) => given.every((k) => k in o)) ?? {};
}

function setupSql(identity: DbIdentity, timeoutMs: number): string {
  return `select set_config('search_path', '"public", "extensions"', true), ` +
    `set_config('role', ${literal(identity.role)}, true), ` +
    `set_config('request.jwt.claims', ${literal(identity.claims)}, true), ` +
    `set_config('statement_timeout', '${Math.max(1, Math.floor(timeoutMs))}', true)`;
}

interface ClientLike {
  headers?: Record<string, string>;
  supabaseKey?: string;
}

const identities = new WeakMap<object, Promise<DbIdentity | null>>();
let hsKey: Uint8Array | undefined;

/** The bearer token a supabase-js client sends: its Authorization header, else its key. */
function tokenOf(client: object): string | undefined {
  const c = client as ClientLike;
  for (const [k, v] of Object.entries(c.headers ?? {})) {
    if (k.toLowerCase() === 'authorization' && v.startsWith('Bearer ')) return v.slice(7).trim();
  }
  return c.supabaseKey;
}

async function resolveIdentity(token: string | undefined): Promise<DbIdentity | null> {
  if (!token) return null;
  // The project's own keys: the legacy service-role JWT, or a secret / publishable key (sb_…).
  if (token === env('SUPABASE_SERVICE_ROLE_KEY') || apiKeyRole(token) === 'service_role') {
    // PostgREST sets the key's own claims; a non-JWT secret key (sb_secret_…) carries just the role.
    let claims: Record<string, unknown> = {};
    try {
      claims = decodeJwt(token);
    } catch { /* sb_secret_… */ }
    return { role: 'service_role', claims: JSON.stringify({ ...claims, role: 'service_role' }) };
  }
  if (isOpaqueApiKey(token)) {
    return apiKeyRole(token) === 'anon' ? { role: 'anon', claims: JSON.stringify({ role: 'anon' }) } : null;
  }
  // Any other token is verified as PostgREST would; what cannot be verified here goes over REST.
  const secret = env('SUPABASE_JWT_SECRET');
  if (!secret) return null;
  try {
    const { payload } = await jwtVerify(token, hsKey ??= new TextEncoder().encode(secret), { algorithms: ['HS256'] });
    const role = typeof payload.role === 'string' ? payload.role : 'anon';
    if (!API_ROLES.has(role)) return null;
    return { role, claims: JSON.stringify({ ...payload, role }) };
  } catch {
    return null;
  }
}

/** setTimeout's largest delay (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The identity a client's calls run as over the direct path, or null when only PostgREST can
 * decide it (then the call goes over REST). Remembered per client: the service client lives as
 * long as the instance. An identity from a user JWT is not remembered past its expiry.
 */
export function identityOf(client: object): Promise<DbIdentity | null> {
  let found = identities.get(client);
  if (!found) {
    found = resolveIdentity(tokenOf(client));
    identities.set(client, found);
    void found.then((id) => {
      const exp = id ? (JSON.parse(id.claims) as { exp?: number }).exp : undefined;
      if (typeof exp === 'number' && id?.role !== 'service_role') {
        // Capped at timers' 32-bit limit: a longer delay would fire at once and forget the identity on every call.
        setTimeout(() => identities.delete(client), Math.min(Math.max(0, exp * 1000 - Date.now()), MAX_TIMER_MS))
          .unref?.();
      }
    });
  }
  return found;
}

function isPostgresError(e: unknown): e is { code: string; message: string; severity: string } {
  return typeof e === 'object' && e !== null && 'severity' in e && typeof (e as { code?: unknown }).code === 'string';
}

/**
 * Runs one RPC over the pool. SQL errors keep their SQLSTATE; connection failures get no code
 * (like a failed fetch in supabase-js); an exceeded deadline gets code TIMEOUT.
 */
export async function pgRpc(
  identity: DbIdentity,
  fn: string,
  args: Record<string, unknown>,
  timeoutMs: number,
): Promise<RpcOutcome> {
  let text: string;
  try {
    const kinds = IDENT.test(fn) ? await kindsFor(fn, args) : {};
    text = setupSql(identity, timeoutMs) + ';\n' + callSql(fn, args, kinds);
  } catch (e) {
    if (e instanceof InputError) return { data: null, error: { code: e.code, message: e.message } };
    return {
      data: null,
      error: { code: isPostgresError(e) ? e.code : '', message: (e as Error).message ?? String(e) },
    };
  }
  const query = sql().unsafe(text).simple();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    // The server's statement_timeout ends a slow statement; this bounds connecting and queueing.
    timer = setTimeout(() => {
      query.cancel();
      reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { timeout: true }));
    }, timeoutMs + 250);
  });
  try {
    const results = (await Promise.race([query.execute(), deadline])) as unknown as postgres.RowList<postgres.Row[]>[];
    const last = results[results.length - 1];
    const column = last.columns?.[0];
    const value = last[0]?.[column?.name ?? fn];
    if (column?.type === VOID_OID) return { data: null, error: null };
    if (column && NUMERIC_OIDS.has(column.type) && value !== null) return { data: Number(value), error: null };
    return { data: value ?? null, error: null };
  } catch (e) {
    if ((e as { timeout?: boolean }).timeout) {
      return { data: null, error: { code: 'TIMEOUT', message: (e as Error).message } };
    }
    if (isPostgresError(e) && e.severity !== 'FATAL' && e.severity !== 'PANIC') {
      // statement_timeout, as the REST path would report it.
      return { data: null, error: { code: e.code, message: e.message } };
    }
    return { data: null, error: { code: '', message: (e as Error).message ?? String(e) } };
  } finally {
    clearTimeout(timer);
  }
}
