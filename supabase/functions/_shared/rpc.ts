// Calls an RPC and maps database errors to the HTTP errors the functions answer with.
import type { SupabaseClient } from '@supabase/supabase-js';
import { HttpError } from './errors.ts';

const BY_SQLSTATE: Record<string, [number, string]> = {
  '42501': [403, 'forbidden'],
  P0002: [404, 'not_found'],
  '22023': [400, 'invalid_request'],
  '22P02': [400, 'invalid_request'],
  '23514': [400, 'invalid_request'],
};

/** `attempts` > 1 only for calls that are safe to repeat (reads, idempotent upserts). */
export async function callRpc<T>(db: SupabaseClient, fn: string, args: Record<string, unknown>, attempts = 1): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const { data, error } = await db.rpc(fn, args);
    if (!error) return data as T;
    const mapped = BY_SQLSTATE[error.code];
    if (mapped) throw new HttpError(mapped[0], mapped[1], error.message);
    // Connection-level failures (no SQLSTATE) of an idempotent call are worth one retry.
    if (attempt < attempts && (!error.code || error.code.startsWith('08'))) continue;
    console.error(`rpc ${fn} failed:`, error);
    throw new HttpError(503, 'database_unavailable', 'The database could not complete the request');
  }
}
