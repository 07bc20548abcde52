// OpenAI's error shape, {"error":{"message","type","param","code"}}, with OpenAI's statuses,
// so the official SDK raises its own classes (BadRequestError, AuthenticationError, …).
// House errors (HttpError from _shared/errors.ts) are translated here, never re-implemented.
import { corsHeaders } from '../_shared/cors.ts';
import { HttpError } from '../_shared/errors.ts';

export interface OpenAIErrorBody {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** An error already in OpenAI's shape (an upstream's, kept as it came), with its status and headers. */
export class OpenAIError extends Error {
  constructor(
    readonly status: number,
    readonly body: OpenAIErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message);
  }
}

/** OpenAI's `type` for a status: what its API answers for the same class of failure. */
export function errorType(status: number): string {
  if (status === 401) return 'invalid_request_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  if (status === 504) return 'timeout';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

export function invalidParam(param: string, message: string, code: string | null = null): OpenAIError {
  return new OpenAIError(400, { message, type: 'invalid_request_error', param, code });
}

export function openAIErrorResponse(err: unknown, extraHeaders: Record<string, string> = {}): Response {
  let status = 500;
  let body: OpenAIErrorBody = { message: 'Internal error', type: 'server_error', param: null, code: 'internal_error' };
  let headers: Record<string, string> = {};
  if (err instanceof OpenAIError) {
    ({ status, body, headers } = err);
  } else if (err instanceof HttpError) {
    status = err.status;
    headers = err.headers;
    body = { message: err.message, type: errorType(err.status), param: null, code: err.code };
  } else {
    console.error('ai-gateway: unhandled error:', err);
  }
  return new Response(JSON.stringify({ error: body }), {
    status,
    headers: { ...corsHeaders, 'content-type': 'application/json', ...headers, ...extraHeaders },
  });
}
