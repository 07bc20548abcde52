// Odd Unicode from callers (NUL, lone surrogates, RTL, emoji, very long) is the caller's
// business, never a 5xx: text is made storable the same way before the key is built, so a
// description with U+0000 is answered and cached like its clean twin; and cache key v2 keeps
// programs that differ in indentation apart while prose variants still share an answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ANON_KEY,
  closeAdminSql,
  createCompany,
  createUser,
  FUNCTIONS_URL,
  marker,
  SERVICE_ROLE_KEY,
  simCalls,
  type TestUser,
} from '../helpers/stack.ts';

let user: TestUser;
let company: string;

beforeAll(async () => {
  user = await createUser('fuzz');
  company = await createCompany([[user, 'member']]);
});

afterAll(async () => {
  await closeAdminSql();
});

async function post(fn: string, token: string, body: unknown) {
  const res = await fetch(`${FUNCTIONS_URL}/${fn}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, apikey: ANON_KEY, 'content-type': 'application/json' },
    // JSON.stringify escapes lone surrogates (\ud800), as browsers send them.
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, xcache: res.headers.get('x-cache'), json: JSON.parse(text) };
}

const chat = (message: string) => post('ai-chat', user.jwt, { company_id: company, message });
// The service role is not rate limited: the fuzz cases do not drain the shared anon bucket.
const suggest = (description: string) => post('ai-suggest', SERVICE_ROLE_KEY, { description_projet: description });

/** Odd but acceptable text: each must be answered, then served from the cache. */
const ODD: Record<string, string> = {
  nul: 'Site web\u0000 pour mon restaurant\u0000',
  'lone high surrogate': 'Site pour \ud83d mon club',
  'lone low surrogate': 'Site \ude00 pour mon club',
  'reversed surrogates': 'Logo \ude00\ud83d et site',
  rtl: 'موقع لمطعمي \u202Eשלום\u202C עם תפריט',
  emoji: 'Boutique 👩🏽‍💻🏳️‍🌈 pour 🍕 et ☕️',
  'combining marks': 'Cafe\u0301 Z\u0351\u0342a\u0300lgo\u0308',
  'zero width and BOM': '\ufeffSite\u200b vitrine\u200d ici',
  'control characters': 'Site \u0001\u0007\u001b[31m rouge',
};

describe('fuzzed text never becomes a 5xx', () => {
  for (const [name, text] of Object.entries(ODD)) {
    it(`ai-suggest: ${name} is answered, then served from the cache`, async () => {
      const m = marker('fz');
      const first = await suggest(`${text} ${m}`);
      expect(first.status).toBe(200);
      expect(first.json.success).toBe(true);
      const second = await suggest(`${text} ${m}`);
      expect(second.status).toBe(200);
      expect(second.xcache).toBe('HIT');
      expect(await simCalls(m)).toBe(1);
    });

    it(`ai-chat: ${name} is answered, then served from the cache`, async () => {
      const m = marker('fz');
      const first = await chat(`${text} ${m}`);
      expect(first.status).toBe(200);
      expect(first.json.message.length).toBeGreaterThan(0);
      const second = await chat(`${text} ${m}`);
      expect(second.status).toBe(200);
      expect(second.xcache).toBe('HIT');
      expect(await simCalls(m)).toBe(1);
    });
  }

  it('cleans U+0000 before the key: a description with NUL and its clean twin share one entry', async () => {
    const m = marker('nul-twin');
    const withNul = await suggest(`Site\u0000 web pour mon restaurant ${m}`);
    expect(withNul.status).toBe(200);
    const clean = await suggest(`Site web pour mon restaurant ${m}`);
    expect(clean.xcache).toBe('HIT');
    expect(await simCalls(m)).toBe(1);
  });

  it('answers text that is empty once cleaned, or too long, with a 400 and a clear code', async () => {
    for (
      const r of [
        await suggest('\u0000\u0000\u0000'),
        await chat('\u0000 \u0000'),
        await suggest('x'.repeat(2001)),
        await chat('é'.repeat(16_001)),
      ]
    ) {
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe('invalid_request');
    }
  });
});

describe('cache key v2 over HTTP', () => {
  it('never shares an answer between two Python snippets that differ only in indentation; prose variants still share', async () => {
    const m = marker('py');
    const snippet = (lastIndent: string) =>
      `Why does this return 1? ${m}\n\n\`\`\`python\ndef f(x):\n    if x:\n        return 1\n${lastIndent}return 2\n\`\`\``;
    const a = await chat(snippet('    '));
    const b = await chat(snippet('        '));
    expect([a.status, b.status]).toEqual([200, 200]);
    expect([a.xcache, b.xcache]).toEqual(['MISS', 'MISS']);
    expect(await simCalls(m)).toBe(2);
    // The same question typed differently: extra spaces, CRLF, trailing blanks, NFD.
    const variant =
      `  Why  does this\treturn 1?   ${m}\r\n\r\n\r\n\`\`\`python\r\ndef f(x):\r\n    if x:\r\n        return 1\r\n    return 2\r\n\`\`\`\r\n\r\n`;
    const c = await chat(variant);
    expect(c.xcache).toBe('HIT');
    expect(c.json.message).toBe(a.json.message);
    expect(await simCalls(m)).toBe(2);
  });
});
