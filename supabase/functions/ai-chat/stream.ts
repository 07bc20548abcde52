// ai-chat with `stream: true`: the model's answer as OpenAI-style SSE, stored once complete.
import type { CacheEntry, CacheStatus, Lease } from '../_shared/cache.ts';
import { modelClient, upstreamFailure, withinDeadline } from '../_shared/model-client.ts';
import { chunk, type ChunkMeta, SSE_DONE, sseData, sseHeaders, usageChunk } from '../_shared/sse.ts';
import {
  abandonTurn,
  type ChatResult,
  completeTurn,
  headersFor,
  onModelFailure,
  type Turn,
  type Usage,
} from './turn.ts';

/**
 * Streams the model's answer as it comes. The final chunk and [DONE] are sent only once the
 * answer is stored, so a client that saw the end of the stream can rely on it being kept.
 * An aborted or failed stream is never cached and writes no message (the turn is stored only
 * with its answer); its lease and Idempotency-Key claim are given back. Owns the lease from
 * here on: it is renewed while the stream runs and settled when the stream ends, however it ends.
 */
export async function streamFromModel(
  turn: Turn,
  lease: Lease,
  stale: CacheEntry<ChatResult> | null,
): Promise<Response> {
  let handedOff = false;
  try {
    const res = await startStream(turn, lease, stale);
    handedOff = res.streaming;
    return res.response;
  } finally {
    if (!handedOff) await lease.settle();
  }
}

async function startStream(
  turn: Turn,
  lease: Lease,
  stale: CacheEntry<ChatResult> | null,
): Promise<{ response: Response; streaming: boolean }> {
  let upstream;
  try {
    upstream = await withinDeadline(turn.deadline, (opts) =>
      modelClient().chat.completions.create({
        model: turn.model,
        messages: turn.messages,
        stream: true,
        stream_options: { include_usage: true },
      }, opts));
  } catch (err) {
    return { response: await onModelFailure(turn, lease, stale, err, true), streaming: false };
  }
  const source = upstream;
  const status: CacheStatus = turn.useCache ? 'MISS' : 'BYPASS';
  const meta: ChunkMeta = {
    id: `chatcmpl-${crypto.randomUUID()}`,
    model: turn.model,
    created: Math.floor(Date.now() / 1000),
  };
  let aborted = false;
  const body = new ReadableStream<Uint8Array>({
    async start(c) {
      try {
        await pump(c);
      } finally {
        await lease.settle();
      }
    },
    cancel() {
      aborted = true;
      source.controller.abort();
    },
  });
  return {
    response: new Response(body, { status: 200, headers: sseHeaders(headersFor(turn, status, 0)) }),
    streaming: true,
  };

  async function pump(c: ReadableStreamDefaultController<Uint8Array>) {
    let content = '';
    let refusal = '';
    let finishReason: string | null = null;
    let usage: Usage | null = null;
    let servedModel = turn.model;
    c.enqueue(chunk(meta, { role: 'assistant', content: '' }, null, { conversation_id: turn.conversationId }));
    try {
      for await (const part of source) {
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
      await abandonTurn(turn, lease, !aborted);
      if (aborted) return;
      const f = upstreamFailure(err);
      c.enqueue(
        sseData({ error: { code: 'model_stream_failed', message: `${f.message}; the partial answer was not kept` } }),
      );
      c.close();
      return;
    }
    if (aborted) {
      await abandonTurn(turn, lease, false);
      return;
    }
    if (!finishReason) {
      await abandonTurn(turn, lease, true);
      c.enqueue(
        sseData({
          error: {
            code: 'model_stream_failed',
            message: 'The model stream ended early; the partial answer was not kept',
          },
        }),
      );
      c.close();
      return;
    }
    const finalUsage = usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
    // Never throws: an answer that could not be stored still ends normally, flagged.
    const { messageId, storeFailed } = await completeTurn(
      turn,
      lease,
      content,
      finishReason,
      refusal || null,
      finalUsage,
      servedModel,
    );
    c.enqueue(chunk(meta, {}, finishReason));
    c.enqueue(usageChunk(meta, finalUsage, {
      conversation_id: turn.conversationId,
      message_id: messageId,
      from_cache: false,
      cache: status,
      ...(storeFailed ? { cache_warning: 'store-failed' } : {}),
    }));
    c.enqueue(SSE_DONE);
    c.close();
  }
}
