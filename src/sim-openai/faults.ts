export type Fault =
  | { type: 'status'; status: number; retryAfter?: number; message?: string; code?: string; errorType?: string }
  | { type: 'delay'; ms: number }
  | { type: 'malformed' }
  | { type: 'cut_stream'; afterChunks: number };

export interface QueuedFault {
  fault: Fault;
  remaining: number;
  /** Only requests whose last user message contains this substring consume the fault. */
  match?: string;
}

/**
 * FIFO of one-shot faults for chat completions. Each request consumes at most one fault: the
 * first queued entry whose `match` fits it, so faults enqueued together hit successive requests.
 */
export class FaultQueue {
  private entries: QueuedFault[] = [];

  /** Accepts `{faults:[...]}`, a bare array, or a single fault object; throws on invalid input. */
  enqueue(body: unknown): QueuedFault[] {
    const list = Array.isArray(body)
      ? body
      : body && typeof body === 'object' && Array.isArray((body as { faults?: unknown }).faults)
      ? (body as { faults: unknown[] }).faults
      : [body];
    const parsed = list.map(parseFault);
    this.entries.push(...parsed);
    return parsed;
  }

  take(lastUserMessage: string): Fault | undefined {
    const i = this.entries.findIndex((e) => e.match === undefined || lastUserMessage.includes(e.match));
    if (i === -1) return undefined;
    const entry = this.entries[i]!;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.entries.splice(i, 1);
    return entry.fault;
  }

  clear(): void {
    this.entries = [];
  }

  pending(): QueuedFault[] {
    return this.entries.map((e) => ({ ...e }));
  }
}

export class FaultParseError extends Error {}

function parseFault(raw: unknown): QueuedFault {
  if (!raw || typeof raw !== 'object') throw new FaultParseError('each fault must be a JSON object');
  const f = raw as Record<string, unknown>;
  const count = f.count === undefined ? 1 : f.count;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) {
    throw new FaultParseError('fault.count must be a positive integer');
  }
  if (f.match !== undefined && typeof f.match !== 'string') throw new FaultParseError('fault.match must be a string');
  const match = f.match as string | undefined;
  return { fault: faultOf(f), remaining: count, ...(match !== undefined ? { match } : {}) };
}

function faultOf(f: Record<string, unknown>): Fault {
  switch (f.type) {
    case 'status': {
      if (typeof f.status !== 'number' || !Number.isInteger(f.status) || f.status < 400 || f.status > 599) {
        throw new FaultParseError('status fault needs an integer status between 400 and 599');
      }
      if (f.retryAfter !== undefined && (typeof f.retryAfter !== 'number' || f.retryAfter < 0)) {
        throw new FaultParseError('fault.retryAfter must be a non-negative number of seconds');
      }
      return {
        type: 'status',
        status: f.status,
        ...(typeof f.retryAfter === 'number' ? { retryAfter: f.retryAfter } : {}),
        ...(typeof f.message === 'string' ? { message: f.message } : {}),
        ...(typeof f.code === 'string' ? { code: f.code } : {}),
        ...(typeof f.errorType === 'string' ? { errorType: f.errorType } : {}),
      };
    }
    case 'delay':
      if (typeof f.ms !== 'number' || f.ms < 0) throw new FaultParseError('delay fault needs a non-negative ms');
      return { type: 'delay', ms: f.ms };
    case 'malformed':
      return { type: 'malformed' };
    case 'cut_stream': {
      const after = f.afterChunks === undefined ? 2 : f.afterChunks;
      if (typeof after !== 'number' || !Number.isInteger(after) || after < 0) {
        throw new FaultParseError('cut_stream fault needs a non-negative integer afterChunks');
      }
      return { type: 'cut_stream', afterChunks: after };
    }
    default:
      throw new FaultParseError(
        `unknown fault type ${JSON.stringify(f.type)} (expected status, delay, malformed or cut_stream)`,
      );
  }
}

/** Default error bodies mirror what OpenAI sends for these statuses. */
export function statusFaultError(fault: Extract<Fault, { type: 'status' }>) {
  const defaults: Record<number, { message: string; type: string; code: string | null }> = {
    400: { message: 'Simulated bad request.', type: 'invalid_request_error', code: null },
    401: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' },
    403: {
      message: 'You are not allowed to access this resource.',
      type: 'invalid_request_error',
      code: 'unsupported_country_region_territory',
    },
    404: {
      message: 'The model does not exist or you do not have access to it.',
      type: 'invalid_request_error',
      code: 'model_not_found',
    },
    429: {
      message: 'Rate limit reached for requests (simulated). Please try again later.',
      type: 'requests',
      code: 'rate_limit_exceeded',
    },
    500: {
      message: 'The server had an error while processing your request. Sorry about that! (simulated)',
      type: 'server_error',
      code: null,
    },
    502: { message: 'Bad gateway (simulated).', type: 'server_error', code: null },
    503: {
      message: 'The engine is currently overloaded, please try again later. (simulated)',
      type: 'server_error',
      code: null,
    },
  };
  const d = defaults[fault.status] ??
    {
      message: `Simulated error with status ${fault.status}.`,
      type: fault.status >= 500 ? 'server_error' : 'invalid_request_error',
      code: null,
    };
  return {
    message: fault.message ?? d.message,
    type: fault.errorType ?? d.type,
    param: null,
    code: fault.code ?? d.code,
  };
}
