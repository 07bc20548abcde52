// The canonical cache key: equal requests share a key; anything that changes the answer does not.
import { describe, expect, it } from 'vitest';
import { CACHE_KEY_VERSION, chatCacheKey, normalizeDescription, normalizeText, type ChatKeyInput } from '../../supabase/functions/_shared/cache-key.ts';
import { canonicalJson } from '../../supabase/functions/_shared/canonical-json.ts';

const base: ChatKeyInput = {
  cacheType: 'chat',
  scope: '11111111-1111-4111-8111-111111111111',
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'You are a helpful accountant.' },
    { role: 'user', content: 'What is VAT?' },
  ],
};

const key = async (input: ChatKeyInput) => (await chatCacheKey(input)).key;

describe('canonical cache key', () => {
  it('is a sha256 hex digest and carries its version in the canonical form', async () => {
    const { key: k, canonical } = await chatCacheKey(base);
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(canonical.v).toBe(CACHE_KEY_VERSION);
  });

  it('is the same for equal requests, whatever the key order, whitespace or Unicode form', async () => {
    const same: ChatKeyInput = {
      model: ' GPT-4o-mini ',
      scope: base.scope,
      cacheType: 'chat',
      messages: [
        { role: 'system', content: '  You are a helpful   accountant.\r\n' },
        { role: 'user', content: 'What\tis VAT?' },
      ],
    };
    expect(await key(same)).toBe(await key(base));
    const nfd = { ...base, messages: [{ role: 'user' as const, content: 'Qu\u0065\u0301 est la TVA ?' }] };
    const nfc = { ...base, messages: [{ role: 'user' as const, content: 'Qu\u00e9 est la TVA ?' }] };
    expect(await key(nfd)).toBe(await key(nfc));
  });

  it('fills in defaults, so an explicit default equals an omitted parameter', async () => {
    expect(await key({ ...base, temperature: 1, top_p: 1, n: 1, presence_penalty: 0, response_format: { type: 'text' } })).toBe(await key(base));
    expect(await key({ ...base, stop: 'END' })).toBe(await key({ ...base, stop: ['END'] }));
    expect(await key({ ...base, tools: [] })).toBe(await key(base));
  });

  it('changes with the model, any message, any parameter, tools, the scope or the cache type', async () => {
    const k0 = await key(base);
    const variants: ChatKeyInput[] = [
      { ...base, model: 'gpt-4o' },
      { ...base, messages: [...base.messages.slice(0, 1), { role: 'user', content: 'What is VAT ?' }] },
      { ...base, messages: [{ role: 'user', content: 'What is VAT?' }] },
      { ...base, messages: [...base.messages, { role: 'assistant', content: 'A tax.' }] },
      { ...base, temperature: 0 },
      { ...base, top_p: 0.5 },
      { ...base, max_tokens: 100 },
      { ...base, seed: 7 },
      { ...base, stop: ['\n'] },
      { ...base, presence_penalty: 0.5 },
      { ...base, frequency_penalty: 0.5 },
      { ...base, response_format: { type: 'json_object' } },
      { ...base, tools: [{ type: 'function', function: { name: 'lookup', parameters: {} } }] },
      { ...base, systemPromptVersion: 'accounting@2' },
      { ...base, scope: '22222222-2222-4222-8222-222222222222' },
      { ...base, scope: 'global' },
      { ...base, cacheType: 'document_analysis' },
    ];
    const keys = await Promise.all(variants.map(key));
    for (const k of keys) expect(k).not.toBe(k0);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('does not depend on how the answer is delivered (stream is not part of the input)', async () => {
    const withStream = { ...base, stream: true } as ChatKeyInput;
    expect(await key(withStream)).toBe(await key(base));
  });
});

describe('text normalization', () => {
  it('keeps line structure but collapses spacing', () => {
    expect(normalizeText('  a  b \n\n\n\n c\t\td  ')).toBe('a b\n\nc d');
  });

  it('lower-cases and collapses descriptions as seed 000 does, plus NFC', () => {
    expect(normalizeDescription('  Site WEB  pour\nmon  Restaurant ')).toBe('site web pour mon restaurant');
    expect(normalizeDescription('Cafe\u0301')).toBe(normalizeDescription('CAF\u00c9'));
  });
});

describe('canonical JSON', () => {
  it('sorts keys recursively and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { y: 1, x: 2 }], c: undefined } })).toBe('{"a":{"d":[2,{"x":2,"y":1}]},"b":1}');
  });
});
