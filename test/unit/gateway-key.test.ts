// ai-gateway's cache keys: which request fields change the key (README, ai-gateway "Key"), and
// the stream ⇄ completion conversion that lets a streamed and a plain request share an entry.
import { describe, expect, it } from 'vitest';
import { CompletionAssembler, completionToChunks } from '../../supabase/functions/ai-gateway/completion-chunks.ts';
import { chatCompletionKeys, embeddingKeys } from '../../supabase/functions/ai-gateway/keys.ts';

const COMPANY = 'a0000000-0000-4000-8000-000000000001';
const base = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Quel taux de TVA ?' }] };
const key = async (body: Record<string, unknown>, type = 'chat', company: string | null = COMPANY) =>
  (await chatCompletionKeys(body, type, company)).keys.company;

describe('ai-gateway chat completion key', () => {
  it('leaves delivery and bookkeeping fields out', async () => {
    const k = await key(base);
    for (
      const extra of [
        { stream: true },
        { stream_options: { include_usage: true } },
        { user: 'u1' },
        { metadata: { a: '1' } },
        { store: true },
        { service_tier: 'flex' },
      ]
    ) {
      expect(await key({ ...base, ...extra }), JSON.stringify(extra)).toBe(k);
    }
  });

  it('fills OpenAI defaults in and normalizes text', async () => {
    const k = await key(base);
    expect(await key({ ...base, temperature: 1, top_p: 1, n: 1 })).toBe(k);
    expect(await key({ ...base, messages: [{ role: 'user', content: '  Quel   taux de TVA ?\r\n' }] })).toBe(k);
    expect(
      await key({ ...base, messages: [{ role: 'user', content: [{ type: 'text', text: 'Quel taux de TVA ?' }] }] }),
    ).not.toBe(k);
  });

  it('keys everything that changes the answer, known or not', async () => {
    const k = await key(base);
    for (
      const extra of [
        { temperature: 0.2 },
        { n: 2 },
        { seed: 1 },
        { stop: ['\n'] },
        { max_tokens: 10 },
        { max_completion_tokens: 10 },
        { logprobs: true },
        { response_format: { type: 'json_object' } },
        { tools: [{ type: 'function', function: { name: 'f' } }] },
        { reasoning_effort: 'low' },
        { modalities: ['text'] },
      ]
    ) {
      expect(await key({ ...base, ...extra }), JSON.stringify(extra)).not.toBe(k);
    }
  });

  it('separates cache types and scopes', async () => {
    const k = await key(base);
    expect(await key(base, 'document_analysis')).not.toBe(k);
    expect(await key(base, 'chat', 'b0000000-0000-4000-8000-000000000002')).not.toBe(k);
    const both = (await chatCompletionKeys(base, 'chat', COMPANY)).keys;
    expect(both.global).toBe(await key(base, 'chat', null));
    expect(both.global).not.toBe(both.company);
  });
});

describe('ai-gateway embedding key', () => {
  const item = (over: Partial<Parameters<typeof embeddingKeys>[0]> = {}) =>
    embeddingKeys(
      { model: 'text-embedding-3-small', dimensions: null, encodingFormat: 'float', item: 'hello', ...over },
      'embeddings',
      COMPANY,
    ).then((r) => r.keys.company);

  it('is model, dimensions, encoding_format and the item exactly as sent', async () => {
    const k = await item();
    expect(await item({ model: ' Text-Embedding-3-Small ' })).toBe(k);
    expect(await item({ dimensions: 256 })).not.toBe(k);
    expect(await item({ encodingFormat: 'base64' })).not.toBe(k);
    expect(await item({ item: 'hello ' })).not.toBe(k);
    expect(await item({ item: [1, 2, 3] })).not.toBe(await item({ item: [3, 2, 1] }));
  });
});

describe('stream ⇄ completion', () => {
  it('a completion replayed as chunks assembles back into the same completion', () => {
    const completion = {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1,
      model: 'gpt-4o-mini',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Le taux normal est de 20 %, le taux réduit de 5,5 %.',
            refusal: null,
            annotations: [],
          },
          logprobs: null,
          finish_reason: 'stop',
        },
        {
          index: 1,
          message: {
            role: 'assistant',
            content: null,
            refusal: null,
            tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
            annotations: [],
          },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
      system_fingerprint: 'fp',
    };
    const chunks = completionToChunks(completion, true);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: completion.usage });
    const assembler = new CompletionAssembler();
    for (const c of chunks) assembler.add(c);
    expect(assembler.complete).toBe(true);
    expect(assembler.completion()).toEqual(completion);
  });

  it('a stream cut before its finish_reason is not complete', () => {
    const assembler = new CompletionAssembler();
    assembler.add({
      id: 'x',
      created: 1,
      model: 'm',
      choices: [{ index: 0, delta: { role: 'assistant', content: 'Hel' } }],
    });
    expect(assembler.complete).toBe(false);
  });
});
