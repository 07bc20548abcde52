// One error shape for every function: {"error":{"code","message"}} with the right status,
// never a stack trace. Anything unexpected becomes a 500 whose details stay in the logs.
import { corsHeaders } from './cors.ts';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...corsHeaders, 'content-type': 'application/json', ...headers },
  });
}

/** `extra` fields go before `error` in the body (ai-suggest adds seed 000's `success: false`). */
export function errorResponse(err: unknown, extra: Record<string, unknown> = {}): Response {
  if (err instanceof HttpError) {
    return jsonResponse({ ...extra, error: { code: err.code, message: err.message } }, err.status, err.headers);
  }
  console.error('unhandled error:', err);
  return jsonResponse({ ...extra, error: { code: 'internal_error', message: 'Internal error' } }, 500);
}

/** Wraps a handler so preflight, thrown HttpErrors and crashes all answer in the house style. */
export function withErrors(handler: (req: Request) => Promise<Response>): (req: Request) => Promise<Response> {
  return async (req) => {
    try {
      return await handler(req);
    } catch (err) {
      return errorResponse(err);
    }
  };
}
