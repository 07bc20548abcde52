// Browsers call the functions from app origins; supabase-js sends these headers.
export const corsHeaders: Record<string, string> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers':
    'authorization, x-client-info, apikey, content-type, cache-control, x-cache-ttl, accept, x-forwarded-for',
  'Access-Control-Allow-Methods': 'POST, GET, OPTIONS',
  'Access-Control-Expose-Headers': 'x-cache, x-cache-warning, age, retry-after, x-conversation-id, x-ratelimit-limit, x-ratelimit-remaining',
};

export function preflight(): Response {
  return new Response('ok', { headers: corsHeaders });
}
