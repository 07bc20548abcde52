// ai-chat: a user's message in a conversation, answered from the company's cache when the same
// question (same model, prompt and history) was answered before, else by the model.
// One round trip to the database on a hit; the conversation is kept either way.
import { z } from 'zod';
import { requireUser } from '../_shared/auth.ts';
import { readJson } from '../_shared/body.ts';
import { awaitLeader, lookupArgs, releaseLease, storeArgs, type CacheEntry, type CacheStatus, type CacheTarget, type LookupResult } from '../_shared/cache.ts';
import { parseCacheControls, type CacheControls } from '../_shared/cache-control.ts';
import { CACHE_KEY_VERSION, chatCacheKey } from '../_shared/cache-key.ts';
import { preflight } from '../_shared/cors.ts';
import { env, intEnv } from '../_shared/env.ts';
import { HttpError, jsonResponse, withErrors } from '../_shared/errors.ts';
import { DEFAULT_MODEL, isCacheable, modelClient, upstreamFailure } from '../_shared/model-client.ts';
import { costUsd } from '../_shared/pricing.ts';
import { callRpc } from '../_shared/rpc.ts';
import { chunk, SSE_DONE, sseData, sseHeaders, splitForReplay, usageChunk, type ChunkMeta } from '../_shared/sse.ts';
import { ServerTiming } from '../_shared/server-timing.ts';
import { serviceClient } from '../_shared/supabase.ts';
import { CONTEXT_TYPES, SYSTEM_PROMPTS, type ContextType } from './prompts.ts';

const MAX_BODY_BYTES = intEnv('AI_CHAT_MAX_BODY_BYTES', 64 * 1024);
const MAX_MESSAGE_CHARS = intEnv('AI_CHAT_MAX_MESSAGE_CHARS', 16_000);
const HISTORY_LIMIT = intEnv('AI_CHAT_HISTORY_LIMIT', 20);
const TTL_SECONDS = intEnv('AI_CACHE_TTL_SECONDS', 7 * 24 * 3600);
const LEASE_MS = intEnv('AI_CACHE_LEASE_MS', 30_000);
const STORE_PROMPTS = env('AI_CACHE_STORE_PROMPTS') !== 'false';
const ALLOWED_MODELS = (env('AI_ALLOWED_MODELS') ?? 'gpt-4o-mini,gpt-4o,gpt-4.1,gpt-4.1-mini,gpt-4.1-nano').split(',').map((m) => m.trim());

const Body = z.strictObject({
  company_id: z.guid(),
  conversation_id: z.guid().nullish(),
  message: z.string().trim().min(1, 'must not be empty').max(MAX_MESSAGE_CHARS, `must be at most ${MAX_MESSAGE_CHARS} characters`),
  context_type: z.enum(CONTEXT_TYPES).optional(),
  model: z.string().optional(),
  stream: z.boolean().optional(),
});

type ChatMessage = { role: 'system' | 'user' | 'assistant'; content: string };
type Usage = { prompt_tokens: number; completion_tokens: number; total_tokens: number };
/** What a chat entry's `cached_result` holds. */
interface ChatResult {
  message: { role: 'assistant'; content: string };
  finish_reason: string;
  model: string;
  usage: Usage;
}

interface Turn {
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
}

export const handler = (req: Request): Promise<Response> | Response =>
  req.method === 'OPTIONS' ? preflight() : withErrors(chat)(req);

async function chat(req: Request): Promise<Response> {
  const timing = new ServerTiming();
  const caller = await requireUser(req);
  const controls = parseCacheControls(req.headers);
  const body = await readJson(req, Body, MAX_BODY_BYTES);
  timing.mark('auth');
  const model = body.model ?? DEFAULT_MODEL();
  if (!ALLOWED_MODELS.includes(model)) {
    throw new HttpError(400, 'invalid_request', `model: must be one of ${ALLOWED_MODELS.join(', ')}`);
  }
  const wantsStream = body.stream ?? (req.headers.get('accept') ?? '').includes('text/event-stream');
  const db = serviceClient();

  let history: ChatMessage[] = [];
  let contextType: ContextType = body.context_type ?? 'general';
  if (body.conversation_id) {
    const h = await callRpc<{ conversation: { context_type: ContextType }; messages: ChatMessage[] }>(db, 'chat_history', {
      p_user_id: caller.userId,
      p_company_id: body.company_id,
      p_conversation_id: body.conversation_id,
      p_limit: HISTORY_LIMIT,
    }, 2);
    history = h.messages.filter((m) => m.role === 'user' || m.role === 'assistant');
    contextType = h.conversation.context_type;
  }
  const prompt = SYSTEM_PROMPTS[contextType];
  const messages: ChatMessage[] = [{ role: 'system', content: prompt.text }, ...history, { role: 'user', content: body.message }];
  const { key, canonical } = await chatCacheKey({
    cacheType: 'chat',
    scope: body.company_id,
    model,
    messages,
    systemPromptVersion: prompt.version,
  });
  timing.mark('key');
  const useCache = !controls.noCache && !controls.noStore;
  const target: CacheTarget = {
    companyId: body.company_id,
    key,
    type: 'chat',
    maxAgeSeconds: controls.maxAge,
    leaseOwner: controls.onlyIfCached ? null : crypto.randomUUID(),
    leaseMs: LEASE_MS,
  };

  const started = await callRpc<{ conversation_id: string; lookup: LookupResult<ChatResult> | null; assistant_message_id: string | null }>(
    db,
    'chat_turn',
    {
      p_user_id: caller.userId,
      p_company_id: body.company_id,
      p_conversation_id: body.conversation_id ?? null,
      p_context_type: contextType,
      p_message: body.message,
      p_cache: useCache || controls.onlyIfCached ? lookupArgs(target) : null,
    },
  );
  timing.mark('db');
  const turn: Turn = {
    userId: caller.userId,
    companyId: body.company_id,
    conversationId: started.conversation_id,
    model,
    messages,
    canonical,
    target,
    controls,
    useCache,
    timing,
  };
  const lookup = started.lookup;

  if (lookup?.status === 'hit') return answerFromEntry(turn, lookup, 'HIT', started.assistant_message_id!, wantsStream);
  if (controls.onlyIfCached) {
    throw new HttpError(504, 'not_cached', 'No cached answer for this request (Cache-Control: only-if-cached)', {
      'x-cache': 'MISS',
      'x-conversation-id': turn.conversationId,
    });
  }
  if (lookup?.lease === 'held') {
    const waited = await awaitLeader<ChatResult>(db, target, LEASE_MS + 5_000);
    if ('hit' in waited) return answerFromEntry(turn, waited.hit, 'COALESCED', null, wantsStream);
  }
  const stale = lookup?.status === 'miss' ? lookup.stale : null;
  return wantsStream ? streamFromModel(turn, stale) : answerFromModel(turn, stale);
}

function headersFor(turn: Turn, status: CacheStatus, ageSeconds: number): Record<string, string> {
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
async function answerFromEntry(
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
async function onModelFailure(turn: Turn, stale: CacheEntry<ChatResult> | null, err: unknown, wantsStream: boolean): Promise<Response> {
  await releaseLease(serviceClient(), turn.target, true);
  if (stale && !turn.controls.noStore) return answerFromEntry(turn, stale, 'STALE', null, wantsStream);
  const f = upstreamFailure(err);
  throw new HttpError(f.status, f.code, f.message, {
    ...(f.retryAfter ? { 'retry-after': f.retryAfter } : {}),
    'x-cache': turn.useCache ? 'MISS' : 'BYPASS',
    'x-conversation-id': turn.conversationId,
  });
}

/** Persists the assistant message and, when cacheable, the entry, in one round trip. */
async function completeTurn(turn: Turn, content: string, finishReason: string | null, refusal: string | null, usage: Usage, servedModel: string) {
  const cacheable = !turn.controls.noStore && isCacheable({ content, finishReason, refusal, toolCalls: null });
  const cost = costUsd(turn.model, usage.prompt_tokens, usage.completion_tokens);
  const result: ChatResult = { message: { role: 'assistant', content }, finish_reason: finishReason ?? 'stop', model: servedModel, usage };
  const status: CacheStatus = turn.useCache ? 'MISS' : 'BYPASS';
  const done = await callRpc<{ assistant_message_id: string }>(serviceClient(), 'chat_turn_complete', {
    p_user_id: turn.userId,
    p_company_id: turn.companyId,
    p_conversation_id: turn.conversationId,
    p_content: refusal ?? content,
    p_tokens_used: usage.total_tokens,
    p_model: servedModel,
    p_from_cache: false,
    p_metadata: { cache: status, cost_usd: cost, finish_reason: finishReason, ...(refusal ? { refusal: true } : {}), cached: cacheable },
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
  // cache_store released the lease; an answer we refuse to cache must release it here.
  if (!cacheable && turn.useCache) await releaseLease(serviceClient(), turn.target, false);
  return { messageId: done.assistant_message_id, status };
}

async function answerFromModel(turn: Turn, stale: CacheEntry<ChatResult> | null): Promise<Response> {
  let completion;
  try {
    completion = await modelClient().chat.completions.create({ model: turn.model, messages: turn.messages });
  } catch (err) {
    return onModelFailure(turn, stale, err, false);
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
  const { messageId, status } = await completeTurn(turn, content, choice?.finish_reason ?? null, refusal, usage, completion.model);
  turn.timing.mark('store');
  return jsonResponse(
    { conversation_id: turn.conversationId, message_id: messageId, message: refusal ?? content, from_cache: false, cache: status, model: completion.model, usage },
    200,
    headersFor(turn, status, 0),
  );
}

/**
 * Streams the model's answer as it comes. The final chunk and [DONE] are sent only once the
 * answer is stored, so a client that saw the end of the stream can rely on it being kept.
 * An aborted or failed stream is never cached.
 */
async function streamFromModel(turn: Turn, stale: CacheEntry<ChatResult> | null): Promise<Response> {
  let upstream;
  try {
    upstream = await modelClient().chat.completions.create({
      model: turn.model,
      messages: turn.messages,
      stream: true,
      stream_options: { include_usage: true },
    });
  } catch (err) {
    return onModelFailure(turn, stale, err, true);
  }
  const status: CacheStatus = turn.useCache ? 'MISS' : 'BYPASS';
  const meta: ChunkMeta = { id: `chatcmpl-${crypto.randomUUID()}`, model: turn.model, created: Math.floor(Date.now() / 1000) };
  let aborted = false;
  const body = new ReadableStream<Uint8Array>({
    async start(c) {
      let content = '';
      let refusal = '';
      let finishReason: string | null = null;
      let usage: Usage | null = null;
      let servedModel = turn.model;
      c.enqueue(chunk(meta, { role: 'assistant', content: '' }, null, { conversation_id: turn.conversationId }));
      try {
        for await (const part of upstream) {
          if (aborted) break;
          servedModel = part.model ?? servedModel;
          if (part.usage) usage = part.usage;
          const choice = part.choices?.[0];
          if (!choice) continue;
          const delta = choice.delta as { content?: string | null; refusal?: string | null };
          if (delta?.content) {
            content += delta.content;
            c.enqueue(chunk(meta, { content: delta.content }));
          }
          if (delta?.refusal) {
            refusal += delta.refusal;
            c.enqueue(chunk(meta, { refusal: delta.refusal }));
          }
          if (choice.finish_reason) finishReason = choice.finish_reason;
        }
      } catch (err) {
        if (aborted) return;
        await releaseLease(serviceClient(), turn.target, true);
        const f = upstreamFailure(err);
        c.enqueue(sseData({ error: { code: 'model_stream_failed', message: `${f.message}; the partial answer was not kept` } }));
        c.close();
        return;
      }
      if (aborted) {
        await releaseLease(serviceClient(), turn.target, false);
        return;
      }
      if (!finishReason) {
        await releaseLease(serviceClient(), turn.target, true);
        c.enqueue(sseData({ error: { code: 'model_stream_failed', message: 'The model stream ended early; the partial answer was not kept' } }));
        c.close();
        return;
      }
      const finalUsage = usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
      try {
        const { messageId } = await completeTurn(turn, content, finishReason, refusal || null, finalUsage, servedModel);
        c.enqueue(chunk(meta, {}, finishReason));
        c.enqueue(usageChunk(meta, finalUsage, { conversation_id: turn.conversationId, message_id: messageId, from_cache: false, cache: status }));
        c.enqueue(SSE_DONE);
      } catch (err) {
        await releaseLease(serviceClient(), turn.target, false);
        const message = err instanceof HttpError ? err.message : 'The answer could not be stored';
        c.enqueue(sseData({ error: { code: 'storage_failed', message } }));
      }
      c.close();
    },
    cancel() {
      aborted = true;
      upstream.controller.abort();
    },
  });
  return new Response(body, { status: 200, headers: sseHeaders(headersFor(turn, status, 0)) });
}
