// OpenAI-style server-sent events, so clients written for OpenAI's streaming API read ours.
import { corsHeaders } from './cors.ts';

const encoder = new TextEncoder();

export function sseHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { ...corsHeaders, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', ...extra };
}

export function sseData(payload: unknown): Uint8Array {
  return encoder.encode(`data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`);
}

export const SSE_DONE = sseData('[DONE]');

export interface ChunkMeta {
  id: string;
  model: string;
  created: number;
}

export function chunk(
  meta: ChunkMeta,
  delta: Record<string, unknown>,
  finishReason: string | null = null,
  extra: Record<string, unknown> = {},
) {
  return sseData({
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
    ...extra,
  });
}

export function usageChunk(meta: ChunkMeta, usage: unknown, extra: Record<string, unknown> = {}) {
  return sseData({
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    choices: [],
    usage,
    ...extra,
  });
}

/** Splits a stored answer into word-sized deltas so a cached answer replays like a live one. */
export function splitForReplay(text: string, size = 24): string[] {
  const parts: string[] = [];
  let rest = text;
  while (rest.length > size) {
    const cut = rest.lastIndexOf(' ', size);
    const at = cut > 0 ? cut + 1 : size;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at);
  }
  if (rest) parts.push(rest);
  return parts;
}
