// One error type for every client method, whatever the transport: Edge Functions
// ({"error":{"code","message"}}), PostgREST ({code (SQLSTATE), message, details, hint}) or the
// network. `code` is the server's code in the Edge Functions' vocabulary; `status` the HTTP status
// (0 when no response arrived).
import { FunctionsFetchError, FunctionsHttpError, FunctionsRelayError } from '@supabase/supabase-js';

export type AiCacheErrorCode =
  | 'invalid_request'
  | 'invalid_json'
  | 'invalid_cache_control'
  | 'invalid_cache_ttl'
  | 'unauthorized'
  | 'invalid_jwt'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'payload_too_large'
  | 'rate_limited'
  | 'not_cached'
  | 'model_unavailable'
  | 'model_rejected'
  | 'model_rate_limited'
  | 'model_timeout'
  | 'model_stream_failed'
  | 'invalid_model_output'
  | 'storage_failed'
  | 'database_unavailable'
  | 'database_error'
  | 'internal_error'
  | 'network_error'
  | 'relay_error'
  | 'stream_interrupted'
  | 'aborted'
  // deno-lint-ignore ban-types -- keeps editor completion for the known codes while accepting any string
  | (string & {});

export class AiCacheError extends Error {
  override readonly name = 'AiCacheError';
  constructor(
    /** The server's error code (Edge Functions' vocabulary; PostgREST SQLSTATEs are mapped to it). */
    readonly code: AiCacheErrorCode,
    /** HTTP status; 0 when the request never got a response. */
    readonly status: number,
    message: string,
    readonly extra: {
      /** Seconds to wait before retrying (Retry-After), for 429/503. */
      retryAfter?: number;
      /** The raw code as the server sent it (a SQLSTATE or PGRST code for PostgREST errors). */
      serverCode?: string;
      details?: unknown;
      cause?: unknown;
    } = {},
  ) {
    super(message, extra.cause !== undefined ? { cause: extra.cause } : undefined);
  }

  get retryAfter(): number | undefined {
    return this.extra.retryAfter;
  }

  get serverCode(): string | undefined {
    return this.extra.serverCode;
  }
}

const CODE_BY_STATUS: Record<number, AiCacheErrorCode> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  429: 'rate_limited',
  502: 'model_unavailable',
  503: 'database_unavailable',
  504: 'model_timeout',
};

function retryAfterOf(headers: Headers | undefined): number | undefined {
  const raw = headers?.get('retry-after');
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return seconds;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** An Edge Function error body, whatever produced it (the function, or the gateway's own 401). */
export function errorFromBody(status: number, body: unknown, headers?: Headers): AiCacheError {
  const retryAfter = retryAfterOf(headers);
  const b = body as
    | { error?: { code?: unknown; message?: unknown }; code?: unknown; message?: unknown; msg?: unknown }
    | null;
  if (b && typeof b === 'object' && b.error && typeof b.error === 'object' && typeof b.error.code === 'string') {
    return new AiCacheError(b.error.code, status, String(b.error.message ?? b.error.code), {
      retryAfter,
      serverCode: b.error.code,
    });
  }
  const fallback = CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal_error' : 'invalid_request');
  const message = b && typeof b === 'object'
    ? String(b.message ?? b.msg ?? `HTTP ${status}`)
    : typeof body === 'string' && body
    ? body
    : `HTTP ${status}`;
  const serverCode = b && typeof b === 'object' && b.code !== undefined ? String(b.code) : undefined;
  return new AiCacheError(fallback, status, message, { retryAfter, serverCode, details: body });
}

/** The error of a supabase.functions.invoke() call. */
export async function errorFromInvoke(error: unknown): Promise<AiCacheError> {
  if (error instanceof AiCacheError) return error;
  if (error instanceof FunctionsHttpError) {
    const res = error.context as Response;
    let body: unknown = null;
    try {
      const text = await res.text();
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    } catch {
      // body already consumed or unreadable
    }
    return errorFromBody(res.status, body, res.headers);
  }
  if (error instanceof FunctionsRelayError) {
    const res = error.context as Response | undefined;
    return new AiCacheError('relay_error', res?.status ?? 502, error.message, { cause: error });
  }
  if (error instanceof FunctionsFetchError) {
    const cause = (error as { context?: unknown }).context;
    if (cause instanceof Error && cause.name === 'AbortError') {
      return new AiCacheError('aborted', 0, 'The request was aborted', { cause });
    }
    return new AiCacheError(
      'network_error',
      0,
      `Could not reach the Edge Function: ${cause instanceof Error ? cause.message : error.message}`,
      { cause: error },
    );
  }
  if (error instanceof Error && error.name === 'AbortError') {
    return new AiCacheError('aborted', 0, 'The request was aborted', { cause: error });
  }
  return new AiCacheError('internal_error', 0, error instanceof Error ? error.message : String(error), {
    cause: error,
  });
}

/** PostgREST SQLSTATE / PGRST codes in the functions' vocabulary. */
const CODE_BY_PG: Record<string, [AiCacheErrorCode, number]> = {
  '42501': ['forbidden', 403],
  P0002: ['not_found', 404],
  PGRST116: ['not_found', 404],
  '22023': ['invalid_request', 400],
  '22P02': ['invalid_request', 400],
  '23502': ['invalid_request', 400],
  '23514': ['invalid_request', 400],
  '22001': ['invalid_request', 400],
  PGRST301: ['unauthorized', 401],
  PGRST302: ['unauthorized', 401],
  PGRST303: ['unauthorized', 401],
};

/** The `error` of a supabase-js PostgREST call (`{ data, error, status }`). */
export function errorFromPostgrest(
  error: { code?: string; message?: string; details?: unknown; hint?: unknown },
  status: number,
): AiCacheError {
  const mapped = error.code ? CODE_BY_PG[error.code] : undefined;
  const code = mapped?.[0] ?? CODE_BY_STATUS[status] ??
    (status >= 500 || status === 0 ? 'database_error' : 'invalid_request');
  return new AiCacheError(
    code,
    status >= 400 ? status : (mapped?.[1] ?? 500),
    error.message ?? 'Database request failed',
    {
      serverCode: error.code,
      details: { details: error.details, hint: error.hint },
    },
  );
}
