// Calls to the model through the shared model client (the official openai SDK, OPENAI_BASE_URL),
// each inside the request's Deadline (withinDeadline: AI_MODEL_DEADLINE_MS over every attempt),
// keeping the upstream's body and, on failure, its status, error body and Retry-After.
import OpenAI from 'openai';
import type { Deadline } from '../_shared/deadline.ts';
import { modelClient, ModelDeadlineError, withinDeadline } from '../_shared/model-client.ts';
import { errorType, OpenAIError, type OpenAIErrorBody } from './openai-errors.ts';

/** POSTs `body` to an OpenAI path within the deadline and returns the raw JSON text and its parsed value. */
export async function postRaw(
  path: '/chat/completions' | '/embeddings',
  body: Record<string, unknown>,
  deadline: Deadline,
): Promise<{ text: string; json: Record<string, unknown> }> {
  const text = await withinDeadline(deadline, async (opts) => {
    const response = await modelClient().post(path, { body, ...opts }).asResponse();
    return await response.text();
  });
  try {
    return { text, json: JSON.parse(text) };
  } catch {
    throw new OpenAIError(502, {
      message: 'The model provider answered malformed data',
      type: 'server_error',
      param: null,
      code: 'model_unavailable',
    });
  }
}

/** The upstream failure as the caller will see it: OpenAI's statuses and bodies kept as they came. */
export function upstreamError(err: unknown): OpenAIError {
  if (err instanceof OpenAIError) return err;
  if (err instanceof OpenAI.APIError && err.status) {
    const e = (err.error ?? {}) as Partial<OpenAIErrorBody>;
    const body: OpenAIErrorBody = {
      message: typeof e.message === 'string' ? e.message : err.message,
      type: typeof e.type === 'string' ? e.type : errorType(err.status),
      param: typeof e.param === 'string' ? e.param : null,
      code: typeof e.code === 'string' ? e.code : null,
    };
    const retryAfter = err.headers?.get('retry-after');
    return new OpenAIError(err.status, body, retryAfter ? { 'retry-after': retryAfter } : {});
  }
  if (err instanceof ModelDeadlineError || err instanceof OpenAI.APIUserAbortError) {
    return new OpenAIError(504, {
      message: 'The model provider did not answer within the deadline',
      type: 'timeout',
      param: null,
      code: 'model_timeout',
    });
  }
  if (err instanceof OpenAI.APIConnectionTimeoutError) {
    return new OpenAIError(504, {
      message: 'The model provider timed out',
      type: 'timeout',
      param: null,
      code: 'model_timeout',
    });
  }
  return new OpenAIError(502, {
    message: 'The model provider could not be reached or answered malformed data',
    type: 'server_error',
    param: null,
    code: 'model_unavailable',
  });
}
