// ai-gateway: an OpenAI-compatible base URL (`/functions/v1/ai-gateway/v1`) in front of the
// model, so the official openai SDK caches any AI call of an app unchanged, per company and
// per cache type (X-Company-Id, X-Cache-Type). Errors answer in OpenAI's shape.
import { corsHeaders } from '../_shared/cors.ts';
import { requireCaller, resolveCaller } from './caller.ts';
import { chatCompletions } from './chat.ts';
import { embeddings } from './embeddings.ts';
import { listModels, retrieveModel } from './models.ts';
import { OpenAIError, openAIErrorResponse } from './openai-errors.ts';

/** The path after the function's name: /functions/v1/ai-gateway/v1/x (hosted) or /ai-gateway/v1/x (edge runtime). */
function routeOf(url: URL): string {
  const path = url.pathname.replace(/\/+$/, '');
  const at = path.indexOf('/ai-gateway');
  return at === -1 ? path : path.slice(at + '/ai-gateway'.length) || '/';
}

/** The SDK sends its own x-stainless-* headers: a preflight allows what the browser asks for. */
function preflight(req: Request): Response {
  const asked = req.headers.get('access-control-request-headers');
  const allow = asked
    ? `${corsHeaders['Access-Control-Allow-Headers']}, ${asked}`
    : corsHeaders['Access-Control-Allow-Headers'];
  return new Response('ok', { headers: { ...corsHeaders, 'Access-Control-Allow-Headers': allow, ...exposed } });
}

const exposed = { 'Access-Control-Expose-Headers': `${corsHeaders['Access-Control-Expose-Headers']}, x-request-id` };

async function route(req: Request): Promise<Response> {
  const path = routeOf(new URL(req.url));
  const key = `${req.method} ${path}`;
  if (key === 'POST /v1/chat/completions') return chatCompletions(req, await resolveCaller(req, 'chat'));
  if (key === 'POST /v1/embeddings') return embeddings(req, await resolveCaller(req, 'embeddings'));
  if (key === 'GET /v1/models') {
    await requireCaller(req);
    return listModels();
  }
  if (req.method === 'GET' && path.startsWith('/v1/models/')) {
    await requireCaller(req);
    return retrieveModel(decodeURIComponent(path.slice('/v1/models/'.length)));
  }
  throw new OpenAIError(404, {
    message: `Invalid URL (${req.method} ${path})`,
    type: 'invalid_request_error',
    param: null,
    code: 'not_found',
  });
}

export async function handler(req: Request): Promise<Response> {
  if (req.method === 'OPTIONS') return preflight(req);
  try {
    return await route(req);
  } catch (err) {
    return openAIErrorResponse(err);
  }
}
