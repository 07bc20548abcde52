// The service-role client the functions use for every RPC. It is the only credential that may
// call the hot-path RPCs; the caller's identity is checked first and passed explicitly.
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { requireEnv } from './env.ts';

let client: SupabaseClient | undefined;

export function serviceClient(): SupabaseClient {
  return (client ??= createClient(requireEnv('SUPABASE_URL'), requireEnv('SUPABASE_SERVICE_ROLE_KEY'), {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  }));
}
