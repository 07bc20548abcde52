// Supabase's API keys, as a hosted project hands them to Edge Functions. The new keys
// (`sb_publishable_…`, `sb_secret_…`) are opaque strings, not JWTs: a caller is identified by
// comparing the key with the project's own, which arrive as JSON dictionaries
// (SUPABASE_PUBLISHABLE_KEYS / SUPABASE_SECRET_KEYS, e.g. {"default":"sb_secret_…"}); single
// SUPABASE_PUBLISHABLE_KEY / SUPABASE_SECRET_KEY values are read too. The legacy anon and
// service-role keys are JWTs and are verified as such (see auth.ts).
import { env } from './env.ts';

export type ApiKeyRole = 'anon' | 'service_role';

/** An opaque Supabase API key (never a JWT). */
export const isOpaqueApiKey = (key: string) => key.startsWith('sb_publishable_') || key.startsWith('sb_secret_');

function keyList(dictionaryVar: string, singleVar: string): string[] {
  const keys: string[] = [];
  const dictionary = env(dictionaryVar);
  if (dictionary) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(dictionary);
    } catch {
      throw new Error(`${dictionaryVar} must be a JSON object of key names to keys`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new Error(`${dictionaryVar} must be a JSON object of key names to keys`);
    }
    for (const v of Object.values(parsed)) if (typeof v === 'string' && v) keys.push(v);
  }
  const single = env(singleVar);
  if (single) keys.push(single);
  return keys;
}

let known: { publishable: string[]; secret: string[] } | undefined;

export function projectApiKeys() {
  return (known ??= {
    publishable: keyList('SUPABASE_PUBLISHABLE_KEYS', 'SUPABASE_PUBLISHABLE_KEY'),
    secret: keyList('SUPABASE_SECRET_KEYS', 'SUPABASE_SECRET_KEY'),
  });
}

/** The role an opaque key stands for, or null when it is not one of this project's keys. */
export function apiKeyRole(key: string): ApiKeyRole | null {
  const { publishable, secret } = projectApiKeys();
  if (key.startsWith('sb_secret_') && secret.includes(key)) return 'service_role';
  if (key.startsWith('sb_publishable_') && publishable.includes(key)) return 'anon';
  return null;
}

/** The key functions use to call the project's APIs with full rights: a secret key, else the legacy service-role JWT. */
export function serviceKey(): string {
  const key = projectApiKeys().secret[0] ?? env('SUPABASE_SERVICE_ROLE_KEY');
  if (!key) {
    throw new Error('missing environment variable SUPABASE_SECRET_KEYS (or the legacy SUPABASE_SERVICE_ROLE_KEY)');
  }
  return key;
}
