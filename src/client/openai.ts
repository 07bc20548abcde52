// The official openai SDK, pointed at the ai-gateway function: "use the SDK as usual" and every
// call is cached per company and cache type. The SDK's apiKey follows the Supabase session: it
// is read before each request, so a refreshed access token is used as soon as supabase-js has it.
//
//   const openai = createCachedOpenAI(supabase, { companyId, cacheType: 'document_analysis' });
//   const completion = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages });
import OpenAI, { type ClientOptions } from 'openai';
import type { SupabaseClient } from '@supabase/supabase-js';

export interface CachedOpenAIOptions {
  /** Sent as X-Company-Id: the company whose cache answers (membership is checked server-side). */
  companyId: string;
  /** Sent as X-Cache-Type (the per-type policy decides TTL, scope, on/off). Defaults server-side to `chat` / `embeddings`. */
  cacheType?: string;
  /** The gateway function's name, if deployed under another one. */
  functionName?: string;
  /** Anything else the OpenAI constructor takes (timeout, maxRetries, defaultHeaders, fetch…). */
  openai?: Omit<ClientOptions, 'apiKey' | 'baseURL'>;
}

// deno-lint-ignore no-explicit-any
type AnySupabaseClient = SupabaseClient<any, any, any>;

/** supabase-js keeps these protected; they are the client's own URL and token source. */
interface SupabaseInternals {
  functionsUrl?: URL;
  supabaseUrl?: string;
  accessToken?: () => Promise<string | null>;
}

function functionsUrl(supabase: AnySupabaseClient): string {
  const internals = supabase as unknown as SupabaseInternals;
  if (internals.functionsUrl) return internals.functionsUrl.toString().replace(/\/$/, '');
  if (internals.supabaseUrl) return `${internals.supabaseUrl.replace(/\/$/, '')}/functions/v1`;
  throw new Error('createCachedOpenAI: cannot tell the Supabase URL of this client');
}

/** The current access token: the client's `accessToken` option (third-party auth) or its session. */
export async function currentAccessToken(supabase: AnySupabaseClient): Promise<string> {
  const own = (supabase as unknown as SupabaseInternals).accessToken;
  const token = own ? await own() : (await supabase.auth.getSession()).data.session?.access_token;
  if (!token) throw new Error('createCachedOpenAI: sign in first (no access token in the Supabase session)');
  return token;
}

export function createCachedOpenAI(supabase: AnySupabaseClient, options: CachedOpenAIOptions): OpenAI {
  const headers: Record<string, string> = { 'X-Company-Id': options.companyId };
  if (options.cacheType) headers['X-Cache-Type'] = options.cacheType;
  return new OpenAI({
    ...options.openai,
    baseURL: `${functionsUrl(supabase)}/${options.functionName ?? 'ai-gateway'}/v1`,
    // Called by the SDK before every request (and retry): the session's token, refreshed by supabase-js.
    apiKey: () => currentAccessToken(supabase),
    defaultHeaders: { ...headers, ...options.openai?.defaultHeaders },
  });
}
