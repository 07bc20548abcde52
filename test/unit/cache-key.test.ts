// The canonical cache key: equal requests share a key; anything that changes the answer does not.
import { describe, expect, it } from 'vitest';
import {
  CACHE_KEY_VERSION,
  chatCacheKey,
  type ChatKeyInput,
  normalizeDescription,
  normalizeText,
} from '../../supabase/functions/_shared/cache-key.ts';
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
    expect(
      await key({ ...base, temperature: 1, top_p: 1, n: 1, presence_penalty: 0, response_format: { type: 'text' } }),
    ).toBe(await key(base));
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
  it('keeps line structure and relative indentation but collapses inner spacing', () => {
    expect(normalizeText('  a  b \n\n\n\n  c\t\td  ')).toBe('a b\n\nc d');
    expect(normalizeText('  a  b \n\n\n\n c\t\td  ')).toBe(' a b\n\nc d');
  });

  it('lower-cases and collapses descriptions as seed 000 does, plus NFC', () => {
    expect(normalizeDescription('  Site WEB  pour\nmon  Restaurant ')).toBe('site web pour mon restaurant');
    expect(normalizeDescription('Cafe\u0301')).toBe(normalizeDescription('CAF\u00c9'));
  });
});

describe('key v2: prose variants share a key, programs never merge', () => {
  const user = (content: string): ChatKeyInput => ({
    ...base,
    messages: [base.messages[0], { role: 'user', content }],
  });
  const same = async (a: string, b: string) => expect(await key(user(a))).toBe(await key(user(b)));
  const differ = async (a: string, b: string) => expect(await key(user(a))).not.toBe(await key(user(b)));

  it("is version 3 (v2 text rules; v3 moved an ai-chat turn's history into chat_turn)", () => {
    expect(CACHE_KEY_VERSION).toBe(3);
  });

  it('folds runs of spaces and tabs, CRLF and CR, NFC/NFD, surrounding blank lines and trailing spaces in prose', async () => {
    await same('What  is\tVAT?', 'What is VAT?');
    await same('Line one\r\nLine two\rLine three', 'Line one\nLine two\nLine three');
    await same('Qu\u0065\u0301 est la TVA ?', 'Qu\u00e9 est la TVA ?');
    await same('\n\n   What is VAT?   \n\n', 'What is VAT?');
    await same('para one   \n\n\n\npara two', 'para one\n\npara two');
    await same('  indented\n  together', 'indented\ntogether');
  });

  it('keeps indentation: two Python snippets that differ only in indentation never share an answer', async () => {
    const a = 'Why does this fail?\n\ndef f(x):\n    if x:\n        return 1\n    return 2';
    const b = 'Why does this fail?\n\ndef f(x):\n    if x:\n        return 1\n        return 2';
    await differ(a, b);
    await differ(
      'for i in range(3):\n    print(i)\nprint("done")',
      'for i in range(3):\n    print(i)\n    print("done")',
    );
    await differ('if x:\n\ty()', 'if x:\ny()');
  });

  it('keeps the inside of fenced code blocks exactly, spaces, tabs and blank lines included', async () => {
    const fenced = (body: string) => `Explain:\n\n\`\`\`python\n${body}\n\`\`\`\nThanks`;
    await differ(fenced('x = "a  b"'), fenced('x = "a b"'));
    await differ(fenced('a = 1\n\n\n\nb = 2'), fenced('a = 1\n\nb = 2'));
    await differ(fenced('def f():\n  return 1'), fenced('def f():\n    return 1'));
    await differ('~~~\nx\t= 1\n~~~', '~~~\nx = 1\n~~~');
    // Prose around a fence still folds.
    await same(
      `Explain  this:\r\n\`\`\`\ncode  here\n\`\`\`\r\nThanks   a lot`,
      'Explain this:\n```\ncode  here\n```\nThanks a lot',
    );
    expect(normalizeText('a\n```\n  x  =  1  \n```\n  b   c')).toBe('a\n```\n  x  =  1  \n```\n  b c');
  });

  it('treats an unclosed fence as code to the end of the text', () => {
    expect(normalizeText('see:\n```\n  a   b  ')).toBe('see:\n```\n  a   b  ');
  });

  it('makes text storable the same way everywhere: U+0000 dropped, lone surrogates replaced', async () => {
    await same('What is\u0000 VAT?', 'What is VAT?');
    expect(normalizeText('a\ud800b')).toBe('a\ufffdb');
    expect(normalizeDescription('Site\u0000 web')).toBe('site web');
  });
});

describe('canonical JSON', () => {
  it('sorts keys recursively and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { y: 1, x: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[2,{"x":2,"y":1}]},"b":1}',
    );
  });
});
