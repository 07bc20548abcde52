// One ai-chat turn after its lookup: answering from an entry (HIT, COALESCED, STALE), from the
// model, or replaying a stored turn (Idempotency-Key). A turn is written with its outcome: the
// user message and the assistant message are stored together, with the entry, in one round
// trip once the answer exists; a failed turn writes nothing (no orphan question).
import {
  type CacheEntry,
  type CacheStatus,
  type CacheTarget,
  type Lease,
  type Spend,
  STORE_FAILED,
  storeArgs,
} from '../_shared/cache.ts';
import type { CacheControls } from '../_shared/cache-control.ts';
import { config } from '../_shared/config.ts';
import type { Deadline } from '../_shared/deadline.ts';
import { CACHE_KEY_VERSION } from '../_shared/cache-key.ts';
import { HttpError, jsonResponse } from '../_shared/errors.ts';
import { isCacheable, modelClient, upstreamFailure, withinDeadline } from '../_shared/model-client.ts';
import { costUsd } from '../_shared/pricing.ts';
import { callRpc } from '../_shared/rpc.ts';
import type { ServerTiming } from '../_shared/server-timing.ts';
import { chunk, type ChunkMeta, splitForReplay, SSE_DONE, sseHeaders, usageChunk } from '../_shared/sse.ts';
import { serviceClient } from '../_shared/supabase.ts';
import { type IdempotencyArgs, releaseClaim } from './idempotency.ts';

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
  /** For a new conversation: the id it is stored under with the turn's first answer. */
  conversationId: string;
  contextType: string;
  /** The user's question, stored with the answer. */
  userMessage: string;
  idempotency: IdempotencyArgs | null;
  model: string;
  messages: ChatMessage[];
  canonical: Record<string, unknown>;
  target: CacheTarget;
  controls: CacheControls;
  useCache: boolean;
  timing: ServerTiming;
  deadline: Deadline;
}

/** What a turn answers: fresh, from an entry, or replayed from an earlier request with the same Idempotency-Key. */
export interface TurnAnswer {
  /** Null only when a paid answer could not be stored at all (X-Cache-Warning: store-failed). */
  messageId: string | null;
  content: string;
  fromCache: boolean;
  status: CacheStatus;
  model: string;
  usage: Usage;
  finishReason: string;
  ageSeconds: number;
}

/** A turn stored by an earlier request with the same Idempotency-Key (chat_turn's `replay`). */
export interface StoredTurn {
  conversation_id: string;
  message_id: string;
  message: string;
  model: string;
  usage: Usage;
  from_cache: boolean;
  cache: CacheStatus;
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
  const usage = entryUsage(entry);
  let messageId = storedMessageId;
  if (!messageId) {
    messageId = await storeTurn(turn, {
      p_content: content,
      p_tokens_used: 0,
      p_model: entry.model,
      p_from_cache: true,
      p_metadata: {
        cache: status,
        cache_id: entry.id,
        age_seconds: entry.age_seconds,
        tokens_saved: entry.total_tokens,
      },
      p_response: { model: entry.model, usage, from_cache: true, cache: status },
    });
  }
  const answer: TurnAnswer = {
    messageId,
    content,
    fromCache: true,
    status,
    model: entry.model,
    usage,
    finishReason: entry.cached_result.finish_reason ?? 'stop',
    ageSeconds: entry.age_seconds,
  };
  return respond(turn, answer, wantsStream);
}

/** The same turn again, for a retry carrying the Idempotency-Key of a stored turn: no model call, nothing written. */
export function replayTurn(turn: Turn, stored: StoredTurn, wantsStream: boolean): Response {
  const answer: TurnAnswer = {
    messageId: stored.message_id,
    content: stored.message,
    fromCache: stored.from_cache,
    status: stored.cache,
    model: stored.model,
    usage: stored.usage,
    finishReason: 'stop',
    ageSeconds: 0,
  };
  return respond({ ...turn, conversationId: stored.conversation_id }, answer, wantsStream, {
    'idempotent-replayed': 'true',
  });
}

/** An answer as JSON, or replayed as an OpenAI-style stream. */
function respond(turn: Turn, a: TurnAnswer, wantsStream: boolean, extraHeaders: Record<string, string> = {}): Response {
  const headers = { ...headersFor(turn, a.status, a.ageSeconds), ...extraHeaders };
  const tail = {
    conversation_id: turn.conversationId,
    message_id: a.messageId,
    from_cache: a.fromCache,
    cache: a.status,
  };
  if (!wantsStream) {
    return jsonResponse({ ...tail, message: a.content, model: a.model, usage: a.usage }, 200, headers);
  }
  const meta: ChunkMeta = { id: `chatcmpl-${a.messageId}`, model: a.model, created: Math.floor(Date.now() / 1000) };
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(chunk(meta, { role: 'assistant', content: '' }, null, { conversation_id: turn.conversationId }));
      for (const part of splitForReplay(a.content)) c.enqueue(chunk(meta, { content: part }));
      c.enqueue(chunk(meta, {}, a.finishReason));
      c.enqueue(usageChunk(meta, a.usage, tail));
      c.enqueue(SSE_DONE);
      c.close();
    },
  });
  return new Response(body, { status: 200, headers: sseHeaders(headers) });
}

/** Stores the answered turn (question + answer, the conversation when new, the entry, the key) in one round trip. */
async function storeTurn(turn: Turn, args: Record<string, unknown>): Promise<string> {
  const done = await callRpc<{ assistant_message_id: string }>(serviceClient(), 'chat_turn_complete', {
    p_user_id: turn.userId,
    p_company_id: turn.companyId,
    p_conversation_id: turn.conversationId,
    p_context_type: turn.contextType,
    p_user_message: turn.userMessage,
    p_idempotency: turn.idempotency,
    ...args,
  });
  return done.assistant_message_id;
}

/** A turn that ends without an answer gives back its lease (`failed`: counted as an upstream error) and its key. */
export async function abandonTurn(turn: Turn, lease: Lease, failed: boolean): Promise<void> {
  await Promise.all([
    lease.release(failed),
    releaseClaim(serviceClient(), turn.userId, turn.companyId, turn.idempotency),
  ]);
}

/**
 * What a chat entry keeps of its request, for operators (service role only): the canonical
 * request without the conversation's history, and only the new question. The history is
 * already in the key; storing it again with every answer would copy a member's whole
 * conversation into the cache once per turn.
 */
function storedRequest(turn: Turn): Record<string, unknown> | null {
  if (!config().storePrompts) return null;
  const { messages: _history, ...rest } = turn.canonical;
  return { ...rest, prompt: turn.userMessage, history_messages: Math.max(0, turn.messages.length - 2) };
}

/** The model failed: serve the expired entry if one exists (STALE), else a clear 5xx. */
export async function onModelFailure(
  turn: Turn,
  lease: Lease,
  stale: CacheEntry<ChatResult> | null,
  err: unknown,
  wantsStream: boolean,
): Promise<Response> {
  await lease.release(true);
  if (!stale || turn.controls.noStore) {
    await releaseClaim(serviceClient(), turn.userId, turn.companyId, turn.idempotency);
  }
  if (stale && !turn.controls.noStore) return answerFromEntry(turn, stale, 'STALE', null, wantsStream);
  const f = upstreamFailure(err);
  throw new HttpError(f.status, f.code, f.message, {
    ...(f.retryAfter ? { 'retry-after': f.retryAfter } : {}),
    'x-cache': turn.useCache ? 'MISS' : 'BYPASS',
  });
}

/**
 * Persists the turn (question and answer together) and, when cacheable, the entry, in one
 * round trip. An answer that is not cached (no-store, refusal, truncated) is still spend:
 * recorded as an uncached upstream call in the same transaction. A paid answer is never
 * thrown away: if that write fails, the spend is recorded on its own and the lease given back
 * (lease.unstored), the turn is stored without the entry, and the answer goes out flagged
 * (`storeFailed`). Never throws.
 */
export async function completeTurn(
  turn: Turn,
  lease: Lease,
  content: string,
  finishReason: string | null,
  refusal: string | null,
  usage: Usage,
  servedModel: string,
) {
  const cacheable = !turn.controls.noStore && isCacheable({ content, finishReason, refusal, toolCalls: null });
  const cost = costUsd(turn.model, usage.prompt_tokens, usage.completion_tokens);
  const spend: Spend = { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens, costUsd: cost };
  const result: ChatResult = {
    message: { role: 'assistant', content },
    finish_reason: finishReason ?? 'stop',
    model: servedModel,
    usage,
  };
  const status: CacheStatus = turn.useCache ? 'MISS' : 'BYPASS';
  const message = {
    p_content: refusal ?? content,
    p_tokens_used: usage.total_tokens,
    p_model: servedModel,
    p_from_cache: false,
    p_metadata: {
      cache: status,
      cost_usd: cost,
      finish_reason: finishReason,
      ...(refusal ? { refusal: true } : {}),
      cached: cacheable,
    },
    p_response: { model: servedModel, usage, from_cache: false, cache: status },
  };
  try {
    const messageId = await storeTurn(turn, {
      ...message,
      p_store: cacheable
        ? storeArgs(turn.target, {
          model: turn.model,
          request: storedRequest(turn),
          result,
          ...spend,
          ttlSeconds: turn.controls.ttlSeconds ?? config().cacheTtlSeconds,
          keyVersion: CACHE_KEY_VERSION,
        })
        : null,
      p_uncached_call: cacheable ? null : {
        cache_type: turn.target.type,
        prompt_tokens: usage.prompt_tokens,
        completion_tokens: usage.completion_tokens,
        cost_usd: cost,
      },
    });
    // cache_store released the lease with the entry; an answer we refuse to cache releases it here.
    if (cacheable) lease.stored();
    else await lease.release(false);
    return { messageId: messageId as string | null, status, storeFailed: false };
  } catch (err) {
    console.error('ai-chat: storing the answer failed:', err);
    await lease.unstored(spend);
    try {
      const messageId = await storeTurn(turn, {
        ...message,
        p_metadata: { ...message.p_metadata, cached: false, cache_warning: 'store-failed' },
      });
      return { messageId: messageId as string | null, status, storeFailed: true };
    } catch (e) {
      console.error('ai-chat: storing the turn failed:', e);
      // Nothing stored: a retry with the same Idempotency-Key must run again, not replay.
      await releaseClaim(serviceClient(), turn.userId, turn.companyId, turn.idempotency);
      return { messageId: null, status, storeFailed: true };
    }
  }
}

export async function answerFromModel(
  turn: Turn,
  lease: Lease,
  stale: CacheEntry<ChatResult> | null,
): Promise<Response> {
  let completion;
  try {
    completion = await withinDeadline(
      turn.deadline,
      (opts) => modelClient().chat.completions.create({ model: turn.model, messages: turn.messages }, opts),
    );
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
  const { messageId, status, storeFailed } = await completeTurn(
    turn,
    lease,
    content,
    choice?.finish_reason ?? null,
    refusal,
    usage,
    completion.model,
  );
  turn.timing.mark('store');
  return jsonResponse(
    {
      conversation_id: turn.conversationId,
      message_id: messageId,
      message: refusal ?? content,
      from_cache: false,
      cache: status,
      model: completion.model,
      usage,
    },
    200,
    { ...headersFor(turn, status, 0), ...(storeFailed ? STORE_FAILED : {}) },
  );
}
