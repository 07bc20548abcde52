// Calls an RPC and maps database errors to the HTTP errors the functions answer with: the one
// place where a SQLSTATE becomes a status. Data errors (class 22: a value Postgres refuses)
// are the caller's fault, never a 503.
import type { SupabaseClient } from '@supabase/supabase-js';
import { HttpError } from './errors.ts';

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

/** `attempts` > 1 only for calls that are safe to repeat (reads, idempotent upserts). */
export async function callRpc<T>(db: SupabaseClient, fn: string, args: Record<string, unknown>, attempts = 1): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const { data, error } = await db.rpc(fn, args);
    if (!error) return data as T;
    const mapped = httpErrorFor(error.code);
    if (mapped) throw new HttpError(mapped[0], mapped[1], error.message);
    // Connection-level failures (no SQLSTATE) of an idempotent call are worth one retry.
    if (attempt < attempts && (!error.code || error.code.startsWith('08'))) continue;
    console.error(`rpc ${fn} failed:`, error);
    throw new HttpError(503, 'database_unavailable', 'The database could not complete the request');
  }
}
