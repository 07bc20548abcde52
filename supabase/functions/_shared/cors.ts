// Browsers call the functions from app origins. Supabase's canonical CORS headers (every header
// supabase-js sends, kept in step with the SDK) plus what these functions read and expose.
import { corsHeaders as supabaseCors } from '@supabase/supabase-js/cors';

/** Request headers the caching functions read, beyond what supabase-js sends. */
const OUR_REQUEST_HEADERS = ['cache-control', 'x-cache-ttl', 'accept', 'idempotency-key'];

function mergeList(base: string, extra: string[]): string {
  const names = base.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  for (const h of extra) if (!names.includes(h)) names.push(h);
  return names.join(', ');
}

export const corsHeaders: Record<string, string> = {
  ...supabaseCors,
  'Access-Control-Allow-Headers': mergeList(supabaseCors['Access-Control-Allow-Headers'], OUR_REQUEST_HEADERS),
  'Access-Control-Expose-Headers':
    'x-cache, x-cache-warning, age, retry-after, x-conversation-id, x-ratelimit-limit, x-ratelimit-remaining, server-timing, idempotent-replayed',
};

export function preflight(): Response {
  return new Response('ok', { headers: corsHeaders });
}
