// The service-role client the functions use for every RPC. It is the only credential that may
// call the hot-path RPCs; the caller's identity is checked first and passed explicitly.
// Every call has a deadline (AI_DB_TIMEOUT_MS): a stalled database becomes a 503
// database_unavailable (see rpc.ts), never a request that hangs.
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { serviceKey } from './api-keys.ts';
import { config } from './config.ts';
import { requireEnv } from './env.ts';

let client: SupabaseClient | undefined;

/** fetch with the database deadline, still honouring the caller's own abort signal. */
function fetchWithDeadline(input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> {
  const deadline = AbortSignal.timeout(config().dbTimeoutMs);
  const signal = init.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
  return fetch(input, { ...init, signal });
}

export function serviceClient(): SupabaseClient {
  return (client ??= createClient(requireEnv('SUPABASE_URL'), serviceKey(), {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: { fetch: fetchWithDeadline },
  }));
}
