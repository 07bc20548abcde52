// ai-chat with `stream: true`: the model's answer as OpenAI-style SSE, stored once complete.
import type { CacheEntry, CacheStatus } from '../_shared/cache.ts';
import { HttpError } from '../_shared/errors.ts';
import { modelClient, upstreamFailure } from '../_shared/model-client.ts';
import { chunk, SSE_DONE, sseData, sseHeaders, usageChunk, type ChunkMeta } from '../_shared/sse.ts';
import { abandonTurn, completeTurn, headersFor, onModelFailure, type ChatResult, type Turn, type Usage } from './turn.ts';

/**
 * Streams the model's answer as it comes. The final chunk and [DONE] are sent only once the
 * answer is stored, so a client that saw the end of the stream can rely on it being kept.
 * An aborted or failed stream is never cached and writes no message (the turn is stored only
 * with its answer); its lease and Idempotency-Key claim are given back.
 */
export async function streamFromModel(turn: Turn, stale: CacheEntry<ChatResult> | null): Promise<Response> {
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
        await abandonTurn(turn, !aborted);
        if (aborted) return;
        const f = upstreamFailure(err);
        c.enqueue(sseData({ error: { code: 'model_stream_failed', message: `${f.message}; the partial answer was not kept` } }));
        c.close();
        return;
      }
      if (aborted) {
        await abandonTurn(turn, false);
        return;
      }
      if (!finishReason) {
        await abandonTurn(turn, true);
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
        await abandonTurn(turn, false);
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
