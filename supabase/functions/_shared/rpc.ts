// Calls an RPC and maps database errors to the HTTP errors the functions answer with: the one
// place where a SQLSTATE becomes a status. Data errors (class 22: a value Postgres refuses)
// are the caller's fault, never a 503.
//
// The one seam every RPC goes through, with two transports that give the same results and the
// same errors: supabase-js `.rpc()` (HTTP to /rest/v1, PostgREST) or a direct Postgres pool
// (pg-rpc.ts). AI_CACHE_DB_TRANSPORT picks one: `postgres`, `rest`, or `auto` (the default:
// postgres when SUPABASE_DB_URL or AI_CACHE_DB_URL is set, as on a hosted project).
import type { SupabaseClient } from '@supabase/supabase-js';
import { config } from './config.ts';
import { env } from './env.ts';
import { HttpError } from './errors.ts';
import { directDbUrl, identityOf, pgRpc, type RpcOutcome } from './pg-rpc.ts';
import { recordDbCall } from './server-timing.ts';

const BY_SQLSTATE: Record<string, [number, string]> = {
  '42501': [403, 'forbidden'],
  P0002: [404, 'not_found'],
  '22023': [400, 'invalid_request'],
  '22P02': [400, 'invalid_request'],
  '23514': [400, 'invalid_request'],
  // Text Postgres cannot store: U+0000 (22021 in text, 22P05 in jsonb).
  '22021': [400, 'invalid_text'],
  '22P05': [400, 'invalid_text'],
};

/** The HTTP status and code of a database error, or null when it is not the caller's fault. */
export function httpErrorFor(sqlstate: string | undefined): [number, string] | null {
  if (!sqlstate) return null;
  return BY_SQLSTATE[sqlstate] ?? (sqlstate.startsWith('22') ? [400, 'invalid_request'] : null);
}

export type DbTransport = 'postgres' | 'rest';

/** Every call's deadline (AI_DB_TIMEOUT_MS): past it the caller gets a 503, never a hung request. */
const timeoutMs = (): number => config().dbTimeoutMs;

/** The configured transport; `postgres` without a database URL is a deployment error. */
export function configuredTransport(): DbTransport {
  const mode = (env('AI_CACHE_DB_TRANSPORT') ?? 'auto').trim().toLowerCase() || 'auto';
  if (mode === 'rest') return 'rest';
  if (mode === 'postgres') {
    if (!directDbUrl()) throw new Error('AI_CACHE_DB_TRANSPORT=postgres needs SUPABASE_DB_URL or AI_CACHE_DB_URL');
    return 'postgres';
  }
  if (mode !== 'auto') {
    throw new Error(`AI_CACHE_DB_TRANSPORT must be postgres, rest or auto, got ${JSON.stringify(mode)}`);
  }
  return directDbUrl() ? 'postgres' : 'rest';
}

/** The transport this instance uses, decided once at start. */
export const TRANSPORT = configuredTransport();

async function restRpc(db: SupabaseClient, fn: string, args: Record<string, unknown>): Promise<RpcOutcome> {
  const signal = AbortSignal.timeout(timeoutMs());
  const { data, error } = await db.rpc(fn, args).abortSignal(signal);
  if (!error) return { data, error: null };
  if (signal.aborted) return { data: null, error: { code: 'TIMEOUT', message: `no answer within ${timeoutMs()} ms` } };
  return { data: null, error: { code: error.code ?? '', message: error.message } };
}

/** One call over the configured transport; a client whose identity only PostgREST can check uses REST. */
async function send(db: SupabaseClient, fn: string, args: Record<string, unknown>): Promise<[RpcOutcome, DbTransport]> {
  if (TRANSPORT === 'postgres') {
    const identity = await identityOf(db);
    if (identity) return [await pgRpc(identity, fn, args, timeoutMs()), 'postgres'];
  }
  return [await restRpc(db, fn, args), 'rest'];
}

/** `attempts` > 1 only for calls that are safe to repeat (reads, idempotent upserts). */
export async function callRpc<T>(
  db: SupabaseClient,
  fn: string,
  args: Record<string, unknown>,
  attempts = 1,
): Promise<T> {
  for (let attempt = 1;; attempt++) {
    const started = performance.now();
    const [{ data, error }, via] = await send(db, fn, args);
    recordDbCall(via, performance.now() - started);
    if (!error) return data as T;
    const mapped = httpErrorFor(error.code);
    if (mapped) throw new HttpError(mapped[0], mapped[1], error.message);
    if (error.code === 'TIMEOUT' || error.code === '57014') {
      console.error(`rpc ${fn} (${via}) timed out:`, error.message);
      throw new HttpError(503, 'database_unavailable', 'The database did not answer in time');
    }
    // Connection-level failures (no SQLSTATE) of an idempotent call are worth one retry.
    if (attempt < attempts && (!error.code || error.code.startsWith('08'))) continue;
    console.error(`rpc ${fn} (${via}) failed:`, error);
    throw new HttpError(503, 'database_unavailable', 'The database could not complete the request');
  }
}
