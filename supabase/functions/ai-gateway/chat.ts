// POST /v1/chat/completions: the upstream's completion, cached per company (or globally) and
// per cache type under the shared protocol (_shared/cache.ts): lookup with a single-flight
// lease, then leadOrFollow (COALESCED answers for followers, a renewed Lease for the leader,
// JSON and streams alike), every upstream call inside the request's Deadline, stale-if-error,
// never caching errors, refusals or truncated answers, and never throwing a paid answer away.
import { z } from 'zod';
import {
  type CacheEntry,
  type CacheStatus,
  type CacheTarget,
  leadOrFollow,
  type Lease,
  type Spend,
  store,
  STORE_FAILED,
} from '../_shared/cache.ts';
import { type CacheControls, parseCacheControls } from '../_shared/cache-control.ts';
import { CACHE_KEY_VERSION } from '../_shared/cache-key.ts';
import { readJson } from '../_shared/body.ts';
import { config } from '../_shared/config.ts';
import { corsHeaders } from '../_shared/cors.ts';
import { Deadline } from '../_shared/deadline.ts';
import { isCacheable, modelClient, withinDeadline } from '../_shared/model-client.ts';
import { costUsd } from '../_shared/pricing.ts';
import { SSE_DONE, sseData, sseHeaders } from '../_shared/sse.ts';
import { serviceClient } from '../_shared/supabase.ts';
import { storableJson } from '../_shared/text.ts';
import { type CacheUse, cacheUse, gatewayLookup, type Policy, targetFor } from './cache-adapter.ts';
import type { GatewayCaller } from './caller.ts';
import { CompletionAssembler, completionToChunks } from './completion-chunks.ts';
import { chatCompletionKeys } from './keys.ts';
import { assertModelAllowed } from './models.ts';
import { OpenAIError } from './openai-errors.ts';
import { postRaw, upstreamError } from './upstream.ts';

/** What a chat entry's `cached_result` holds: the upstream's completion, byte for byte. */
interface StoredCompletion {
  body: string;
}

const ChatBody = z.looseObject({
  model: z.string().min(1, 'you must provide a model parameter'),
  messages: z.array(z.looseObject({ role: z.string() })).min(1, "'messages' must be a non-empty array"),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
});
type ChatBody = z.infer<typeof ChatBody>;

interface Ctx {
  body: ChatBody;
  stream: boolean;
  includeUsage: boolean;
  controls: CacheControls;
  policy: Policy;
  use: CacheUse;
  target: CacheTarget;
  canonical: Record<string, unknown>;
  deadline: Deadline;
}

export function parseChatBody(raw: unknown): ChatBody {
  const parsed = ChatBody.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue.path.length ? issue.path.join('.') : null;
    throw new OpenAIError(400, {
      message: param ? `${param}: ${issue.message}` : issue.message,
      type: 'invalid_request_error',
      param,
      code: null,
    });
  }
  return parsed.data;
}

export async function chatCompletions(req: Request, caller: GatewayCaller): Promise<Response> {
  const deadline = new Deadline();
  const controls = parseCacheControls(req.headers);
  // Caller text is made storable (_shared/text.ts) before the key, the database or the model sees it.
  const body = parseChatBody(storableJson(await readJson(req, z.unknown(), config().gatewayMaxBodyBytes)));
  assertModelAllowed(body.model);
  const { keys, canonical } = await chatCompletionKeys(body, caller.cacheType, caller.companyId);
  const db = serviceClient();
  const leaseOwner = controls.onlyIfCached ? null : crypto.randomUUID();
  const { policy, lookup } = await gatewayLookup<StoredCompletion>(db, caller, keys, controls, leaseOwner);
  const ctx: Ctx = {
    body,
    stream: body.stream === true,
    includeUsage: body.stream_options?.include_usage === true,
    controls,
    policy,
    use: cacheUse(policy, controls),
    target: targetFor(policy, keys, controls, leaseOwner),
    canonical,
    deadline,
  };

  if (lookup?.status === 'hit') return fromEntry(ctx, lookup, 'HIT');
  if (controls.onlyIfCached) {
    throw new OpenAIError(504, {
      message: 'No cached answer for this request (Cache-Control: only-if-cached)',
      type: 'invalid_request_error',
      param: null,
      code: 'not_cached',
    }, { 'x-cache': 'MISS' });
  }
  const next = await leadOrFollow<StoredCompletion>(db, ctx.target, lookup, deadline);
  if ('entry' in next) return fromEntry(ctx, next.entry, next.status);
  const stale = lookup?.status === 'miss' ? lookup.stale : null;
  // A stream ends its lease when the stream ends (streamFromModel settles it).
  if (ctx.stream) return streamFromModel(ctx, next.lease, stale);
  try {
    return await fromModel(ctx, next.lease, stale);
  } finally {
    await next.lease.settle();
  }
}

function headers(status: CacheStatus, ageSeconds: number): Record<string, string> {
  return { 'x-cache': status, age: String(Math.max(0, Math.floor(ageSeconds))) };
}

function fromEntry(ctx: Ctx, entry: CacheEntry<StoredCompletion>, status: CacheStatus): Response {
  const text = entry.cached_result.body;
  if (!ctx.stream) {
    return new Response(text, {
      status: 200,
      headers: { ...corsHeaders, 'content-type': 'application/json', ...headers(status, entry.age_seconds) },
    });
  }
  const chunks = completionToChunks(JSON.parse(text), ctx.includeUsage);
  const payload = chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('') + 'data: [DONE]\n\n';
  return new Response(payload, { status: 200, headers: sseHeaders(headers(status, entry.age_seconds)) });
}

function upstreamParams(ctx: Ctx, stream: boolean): Record<string, unknown> {
  const { stream: _s, stream_options: _o, ...rest } = ctx.body;
  // The usage of a streamed answer is what gets stored: always asked for, passed on only when wanted.
  return stream
    ? { ...rest, stream: true, stream_options: { ...(ctx.body.stream_options ?? {}), include_usage: true } }
    : rest;
}

/** Only complete, genuine answers are replayed: every choice must be (the shared rule per choice). */
function cacheable(completion: Record<string, unknown>): boolean {
  const choices = (completion.choices as Array<Record<string, unknown>> | undefined) ?? [];
  return choices.length > 0 && choices.every((c) => {
    const m = (c.message ?? {}) as { content?: string | null; refusal?: string | null; tool_calls?: unknown[] | null };
    return isCacheable({
      content: m.content ?? null,
      refusal: m.refusal ?? null,
      toolCalls: m.tool_calls ?? null,
      finishReason: (c.finish_reason as string | null) ?? null,
    });
  });
}

/** Upstream failed: the lease goes back (counted as an error), then STALE when allowed, else the upstream's error. */
async function onFailure(
  ctx: Ctx,
  lease: Lease,
  stale: CacheEntry<StoredCompletion> | null,
  err: unknown,
): Promise<Response> {
  await lease.release(true);
  if (stale && ctx.use.read) return fromEntry(ctx, stale, 'STALE');
  const e = upstreamError(err);
  throw new OpenAIError(e.status, e.body, { ...e.headers, 'x-cache': ctx.use.read ? 'MISS' : 'BYPASS' });
}

/**
 * Keeps a good answer and ends the lease. An answer that is not kept (no-store, a policy that
 * disables the type, a refusal or truncated answer) is still paid for: its spend is recorded
 * as an uncached upstream call. Failing to store never costs the caller the answer: its spend
 * is recorded, the lease given back and the answer flagged (the returned headers:
 * X-Cache-Warning). A JSON answer (`json`: nothing promises the caller it is stored) waits for
 * the store at most AI_CACHE_STORE_WAIT_MS, which then finishes after the answer, the lease held
 * until it settles (Lease.storeWithin); a stream stores before its [DONE].
 */
async function keep(
  ctx: Ctx,
  lease: Lease,
  completion: Record<string, unknown>,
  text: string,
  json: boolean,
): Promise<Record<string, string>> {
  const usage = (completion.usage ?? {}) as { prompt_tokens?: number; completion_tokens?: number };
  const model = typeof completion.model === 'string' ? completion.model : ctx.body.model;
  const spend: Spend = {
    promptTokens: usage.prompt_tokens ?? 0,
    completionTokens: usage.completion_tokens ?? 0,
    costUsd: costUsd(model, usage.prompt_tokens ?? 0, usage.completion_tokens ?? 0),
  };
  if (!ctx.use.write || !cacheable(completion)) {
    if (json) await lease.recordWithin('ai-gateway: cache_record_spend', spend, config().storeWaitMs);
    else await lease.unstored(spend);
    return {};
  }
  const save = () =>
    store(serviceClient(), ctx.target, {
      model,
      request: config().storePrompts ? ctx.canonical : null,
      result: { body: text } satisfies StoredCompletion,
      ...spend,
      ttlSeconds: ctx.use.ttlSeconds,
      keyVersion: CACHE_KEY_VERSION,
    });
  if (json) {
    const outcome = await lease.storeWithin('ai-gateway: cache_store', save, spend, config().storeWaitMs);
    return outcome === 'failed' ? STORE_FAILED : {};
  }
  try {
    await save();
    lease.stored();
    return {};
  } catch (err) {
    console.error('ai-gateway: cache_store failed:', err);
    await lease.unstored(spend);
    return STORE_FAILED;
  }
}

async function fromModel(ctx: Ctx, lease: Lease, stale: CacheEntry<StoredCompletion> | null): Promise<Response> {
  let answer;
  try {
    answer = await postRaw('/chat/completions', upstreamParams(ctx, false), ctx.deadline);
  } catch (err) {
    return onFailure(ctx, lease, stale, err);
  }
  const warning = await keep(ctx, lease, answer.json, answer.text, true);
  return new Response(answer.text, {
    status: 200,
    headers: {
      ...corsHeaders,
      'content-type': 'application/json',
      ...headers(ctx.use.read ? 'MISS' : 'BYPASS', 0),
      ...warning,
    },
  });
}

/**
 * Passes the upstream's chunks on as they come and stores the assembled completion once the
 * stream is complete; [DONE] is sent after the store, so a client that saw it can rely on the
 * entry. The lease is renewed while the stream runs and ended when it ends. A stream that
 * fails or is aborted is never cached. The headers are gone by the time a store fails: the
 * stream then carries `: x-cache-warning: store-failed` (an SSE comment, which SDKs skip)
 * before [DONE].
 */
async function streamFromModel(ctx: Ctx, lease: Lease, stale: CacheEntry<StoredCompletion> | null): Promise<Response> {
  let upstream: AsyncIterable<Record<string, unknown>> & { controller: AbortController };
  try {
    upstream = await withinDeadline(ctx.deadline, (opts) =>
      // deno-lint-ignore no-explicit-any
      modelClient().chat.completions.create(upstreamParams(ctx, true) as any, opts)) as unknown as typeof upstream;
  } catch (err) {
    try {
      return await onFailure(ctx, lease, stale, err);
    } finally {
      await lease.settle();
    }
  }
  let aborted = false;
  const assembler = new CompletionAssembler();
  const body = new ReadableStream<Uint8Array>({
    async start(c) {
      try {
        await pipe(c);
      } finally {
        await lease.settle();
      }
    },
    cancel() {
      aborted = true;
      upstream.controller.abort();
    },
  });

  async function pipe(c: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    try {
      for await (const part of upstream) {
        if (aborted) break;
        assembler.add(part);
        const isUsageOnly = Array.isArray(part.choices) && part.choices.length === 0 && part.usage;
        if (!ctx.includeUsage) {
          if (isUsageOnly) continue;
          delete part.usage;
        }
        c.enqueue(sseData(part));
      }
    } catch (err) {
      if (aborted) return;
      await lease.release(true);
      const e = upstreamError(err);
      c.enqueue(sseData({ error: { ...e.body, message: `${e.body.message}; the partial answer was not kept` } }));
      c.close();
      return;
    }
    if (aborted) return;
    if (!assembler.complete) {
      await lease.release(true);
      c.enqueue(
        sseData({
          error: {
            message: 'The model stream ended early; the partial answer was not kept',
            type: 'server_error',
            param: null,
            code: 'model_stream_failed',
          },
        }),
      );
      c.close();
      return;
    }
    const completion = assembler.completion();
    const warning = await keep(ctx, lease, completion, JSON.stringify(completion), false);
    if (warning['x-cache-warning']) {
      c.enqueue(new TextEncoder().encode(`: x-cache-warning: ${warning['x-cache-warning']}\n\n`));
    }
    c.enqueue(SSE_DONE);
    c.close();
  }

  return new Response(body, { status: 200, headers: sseHeaders(headers(ctx.use.read ? 'MISS' : 'BYPASS', 0)) });
}
