// The model client is the official openai SDK: OPENAI_BASE_URL points it at any OpenAI-compatible
// server (Azure, Ollama, vLLM, the local simulated one). The SDK retries 408/409/429/5xx and
// connection errors with exponential backoff and honours Retry-After; we bound it: per
// attempt (OPENAI_TIMEOUT_MS) and in total (the request's Deadline, AI_MODEL_DEADLINE_MS).
import OpenAI from 'openai';
import { config } from './config.ts';
import type { Deadline } from './deadline.ts';
import { env } from './env.ts';

let client: OpenAI | undefined;

export function modelClient(): OpenAI {
  return (client ??= new OpenAI({
    apiKey: env('OPENAI_API_KEY') ?? 'sk-missing',
    baseURL: env('OPENAI_BASE_URL') || undefined,
    timeout: config().openaiTimeoutMs,
    maxRetries: config().openaiMaxRetries,
  }));
}

/** The model interaction did not finish within the request's deadline. */
export class ModelDeadlineError extends Error {
  constructor() {
    super('The model did not answer within the deadline (AI_MODEL_DEADLINE_MS)');
  }
}

/**
 * Runs one model interaction, all its attempts and retries included, inside the deadline:
 * each attempt's timeout is capped by what is left, the deadline's signal aborts the HTTP
 * call (and a stream being read), and the race returns on time even while the SDK sleeps
 * before a retry (that sleep does not watch the signal).
 */
export async function withinDeadline<T>(
  deadline: Deadline,
  run: (opts: { signal: AbortSignal; timeout: number }) => Promise<T>,
): Promise<T> {
  if (deadline.expired()) throw new ModelDeadlineError();
  const timeout = Math.max(1, Math.min(config().openaiTimeoutMs, deadline.remaining()));
  let onAbort = () => {};
  const cut = new Promise<never>((_, reject) => {
    onAbort = () => reject(new ModelDeadlineError());
    deadline.signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([run({ signal: deadline.signal, timeout }), cut]);
  } catch (err) {
    throw deadline.signal.aborted ? new ModelDeadlineError() : err;
  } finally {
    deadline.signal.removeEventListener('abort', onAbort);
  }
}

export const DEFAULT_MODEL = () => config().defaultModel;

export interface CompletionSummary {
  content: string | null;
  finishReason: string | null;
  refusal: string | null;
  toolCalls: unknown[] | null;
}

/** Only complete, genuine answers are worth replaying: never errors, refusals or truncated output. */
export function isCacheable(c: CompletionSummary): boolean {
  if (c.refusal) return false;
  if (c.finishReason !== 'stop' && c.finishReason !== 'tool_calls') return false;
  return (c.content !== null && c.content.length > 0) || (c.toolCalls !== null && c.toolCalls.length > 0);
}

/** Whether a failed model call is the model's fault (serve stale, answer 502/503) rather than ours. */
export function upstreamFailure(err: unknown): { status: number; code: string; message: string; retryAfter?: string } {
  if (err instanceof OpenAI.APIError && err.status) {
    if (err.status === 429) {
      return {
        status: 503,
        code: 'model_rate_limited',
        message: 'The model provider is rate limiting; try again shortly',
        retryAfter: err.headers?.get?.('retry-after') ?? undefined,
      };
    }
    if (err.status >= 500) {
      return { status: 502, code: 'model_unavailable', message: `The model provider failed (${err.status})` };
    }
    return { status: 502, code: 'model_rejected', message: `The model provider refused the request (${err.status})` };
  }
  if (err instanceof ModelDeadlineError || err instanceof OpenAI.APIUserAbortError) {
    return { status: 504, code: 'model_timeout', message: 'The model provider did not answer within the deadline' };
  }
  if (err instanceof OpenAI.APIConnectionTimeoutError) {
    return { status: 504, code: 'model_timeout', message: 'The model provider timed out' };
  }
  return {
    status: 502,
    code: 'model_unavailable',
    message: 'The model provider could not be reached or answered malformed data',
  };
}
