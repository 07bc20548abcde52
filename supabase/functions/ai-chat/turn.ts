// One ai-chat turn after its lookup: answering from an entry (HIT, COALESCED, STALE) or from
// the model, and storing the assistant message with the entry in one round trip.
import { type Lease, STORE_FAILED, storeArgs, type CacheEntry, type CacheStatus, type CacheTarget } from '../_shared/cache.ts';
import type { CacheControls } from '../_shared/cache-control.ts';
import type { Deadline } from '../_shared/deadline.ts';
import { CACHE_KEY_VERSION } from '../_shared/cache-key.ts';
import { env, intEnv } from '../_shared/env.ts';
import { HttpError, jsonResponse } from '../_shared/errors.ts';
import { isCacheable, modelClient, upstreamFailure, withinDeadline } from '../_shared/model-client.ts';
import { costUsd } from '../_shared/pricing.ts';
import { callRpc } from '../_shared/rpc.ts';
import type { ServerTiming } from '../_shared/server-timing.ts';
import { chunk, SSE_DONE, sseHeaders, splitForReplay, usageChunk, type ChunkMeta } from '../_shared/sse.ts';
import { serviceClient } from '../_shared/supabase.ts';

const TTL_SECONDS = intEnv('AI_CACHE_TTL_SECONDS', 7 * 24 * 3600);
const STORE_PROMPTS = env('AI_CACHE_STORE_PROMPTS') !== 'false';

export type ChatMessage = { role: 'system' | 'user' | 'assistant'; content: string };
export type Usage = { prompt_tokens: number; completion_tokens: number; total_tokens: number };
/** What a chat entry's `cached_result` holds. */
export interface ChatResult {
  message: { role: 'assistant'; content: string };
  finish_reason: string;
  model: string;
  usage: Usage;
}

export interface Turn {
  userId: string;
  companyId: string;
  conversationId: string;
  model: string;
  messages: ChatMessage[];
  canonical: Record<string, unknown>;
  target: CacheTarget;
  controls: CacheControls;
  useCache: boolean;
  timing: ServerTiming;
  deadline: Deadline;
}

export function headersFor(turn: Turn, status: CacheStatus, ageSeconds: number): Record<string, string> {
  return {
    'x-cache': status,
    age: String(Math.max(0, Math.floor(ageSeconds))),
    'x-conversation-id': turn.conversationId,
    ...turn.timing.header(),
  };
}

function entryUsage(e: CacheEntry<ChatResult>): Usage {
  return { prompt_tokens: e.prompt_tokens, completion_tokens: e.completion_tokens, total_tokens: e.total_tokens };
}

/** HIT (assistant message already stored by chat_turn), COALESCED or STALE (stored here). */
export async function answerFromEntry(
  turn: Turn,
  entry: CacheEntry<ChatResult>,
  status: CacheStatus,
  storedMessageId: string | null,
  wantsStream: boolean,
): Promise<Response> {
  const content = entry.cached_result.message.content;
  let messageId = storedMessageId;
  if (!messageId) {
    const done = await callRpc<{ assistant_message_id: string }>(serviceClient(), 'chat_turn_complete', {
      p_user_id: turn.userId,
      p_company_id: turn.companyId,
      p_conversation_id: turn.conversationId,
      p_content: content,
      p_tokens_used: 0,
      p_model: entry.model,
      p_from_cache: true,
      p_metadata: { cache: status, cache_id: entry.id, age_seconds: entry.age_seconds, tokens_saved: entry.total_tokens },
    });
    messageId = done.assistant_message_id;
  }
  const headers = headersFor(turn, status, entry.age_seconds);
  const usage = entryUsage(entry);
  if (!wantsStream) {
    return jsonResponse(
      { conversation_id: turn.conversationId, message_id: messageId, message: content, from_cache: true, cache: status, model: entry.model, usage },
      200,
      headers,
    );
  }
  const meta: ChunkMeta = { id: `chatcmpl-${messageId}`, model: entry.model, created: Math.floor(Date.now() / 1000) };
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(chunk(meta, { role: 'assistant', content: '' }, null, { conversation_id: turn.conversationId }));
      for (const part of splitForReplay(content)) c.enqueue(chunk(meta, { content: part }));
      c.enqueue(chunk(meta, {}, entry.cached_result.finish_reason ?? 'stop'));
      c.enqueue(usageChunk(meta, usage, { conversation_id: turn.conversationId, message_id: messageId, from_cache: true, cache: status }));
      c.enqueue(SSE_DONE);
      c.close();
    },
  });
  return new Response(body, { status: 200, headers: sseHeaders(headers) });
}

/** The model failed: serve the expired entry if one exists (STALE), else a clear 5xx. */
export async function onModelFailure(turn: Turn, lease: Lease, stale: CacheEntry<ChatResult> | null, err: unknown, wantsStream: boolean): Promise<Response> {
  await lease.release(true);
  if (stale && !turn.controls.noStore) return answerFromEntry(turn, stale, 'STALE', null, wantsStream);
  const f = upstreamFailure(err);
  throw new HttpError(f.status, f.code, f.message, {
    ...(f.retryAfter ? { 'retry-after': f.retryAfter } : {}),
    'x-cache': turn.useCache ? 'MISS' : 'BYPASS',
    'x-conversation-id': turn.conversationId,
  });
}

/**
 * Persists the assistant message and, when cacheable, the entry, in one round trip. A paid
 * answer is never thrown away: if that fails, the message is stored alone, the spend is
 * recorded, the lease is given back, and the answer goes out flagged (`storeFailed`).
 */
export async function completeTurn(turn: Turn, lease: Lease, content: string, finishReason: string | null, refusal: string | null, usage: Usage, servedModel: string) {
  const cacheable = !turn.controls.noStore && isCacheable({ content, finishReason, refusal, toolCalls: null });
  const cost = costUsd(turn.model, usage.prompt_tokens, usage.completion_tokens);
  const result: ChatResult = { message: { role: 'assistant', content }, finish_reason: finishReason ?? 'stop', model: servedModel, usage };
  const status: CacheStatus = turn.useCache ? 'MISS' : 'BYPASS';
  const message = {
    p_user_id: turn.userId,
    p_company_id: turn.companyId,
    p_conversation_id: turn.conversationId,
    p_content: refusal ?? content,
    p_tokens_used: usage.total_tokens,
    p_model: servedModel,
    p_from_cache: false,
    p_metadata: { cache: status, cost_usd: cost, finish_reason: finishReason, ...(refusal ? { refusal: true } : {}), cached: cacheable },
  };
  try {
    const done = await callRpc<{ assistant_message_id: string }>(serviceClient(), 'chat_turn_complete', {
      ...message,
      p_store: cacheable
        ? storeArgs(turn.target, {
          model: turn.model,
          request: STORE_PROMPTS ? turn.canonical : null,
          result,
          promptTokens: usage.prompt_tokens,
          completionTokens: usage.completion_tokens,
          costUsd: cost,
          ttlSeconds: turn.controls.ttlSeconds ?? TTL_SECONDS,
          keyVersion: CACHE_KEY_VERSION,
        })
        : null,
    });
    // cache_store released the lease; an answer we refuse to cache releases it here.
    if (cacheable) lease.stored();
    else await lease.release(false);
    return { messageId: done.assistant_message_id as string | null, status, storeFailed: false };
  } catch (err) {
    console.error('ai-chat: storing the answer failed:', err);
    await lease.unstored({ promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens, costUsd: cost });
    let messageId: string | null = null;
    if (cacheable) {
      try {
        const done = await callRpc<{ assistant_message_id: string }>(serviceClient(), 'chat_turn_complete', {
          ...message,
          p_metadata: { ...message.p_metadata, cached: false, cache_warning: 'store-failed' },
        });
        messageId = done.assistant_message_id;
      } catch (e) {
        console.error('ai-chat: storing the assistant message failed:', e);
      }
    }
    return { messageId, status, storeFailed: true };
  }
}

export async function answerFromModel(turn: Turn, lease: Lease, stale: CacheEntry<ChatResult> | null): Promise<Response> {
  let completion;
  try {
    completion = await withinDeadline(turn.deadline, (opts) => modelClient().chat.completions.create({ model: turn.model, messages: turn.messages }, opts));
  } catch (err) {
    return onModelFailure(turn, lease, stale, err, false);
  }
  turn.timing.mark('model');
  const choice = completion.choices[0];
  const content = choice?.message?.content ?? '';
  const refusal = choice?.message?.refusal ?? null;
  const usage: Usage = {
    prompt_tokens: completion.usage?.prompt_tokens ?? 0,
    completion_tokens: completion.usage?.completion_tokens ?? 0,
    total_tokens: completion.usage?.total_tokens ?? 0,
  };
  const { messageId, status, storeFailed } = await completeTurn(turn, lease, content, choice?.finish_reason ?? null, refusal, usage, completion.model);
  turn.timing.mark('store');
  return jsonResponse(
    { conversation_id: turn.conversationId, message_id: messageId, message: refusal ?? content, from_cache: false, cache: status, model: completion.model, usage },
    200,
    { ...headersFor(turn, status, 0), ...(storeFailed ? STORE_FAILED : {}) },
  );
}
