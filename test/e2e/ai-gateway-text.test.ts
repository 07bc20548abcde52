// ai-gateway makes caller text storable (U+0000 removed, lone surrogates replaced) before the
// key, the database or the model sees it, like the other functions: such text is answered and
// cached instead of failing in Postgres, and shares its entry with the cleaned text.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeAdminSql,
  createCompany,
  createUser,
  FUNCTIONS_URL,
  marker,
  simCalls,
  type TestUser,
} from '../helpers/stack.ts';

let user: TestUser;
let company: string;

beforeAll(async () => {
  user = await createUser('gw-text');
  company = await createCompany([[user, 'owner']]);
});

afterAll(async () => {
  await closeAdminSql();
});

const client = () =>
  new OpenAI({
    apiKey: user.jwt,
    baseURL: `${FUNCTIONS_URL}/ai-gateway/v1`,
    defaultHeaders: { 'X-Company-Id': company },
    maxRetries: 0,
  });

describe('ai-gateway: text Postgres cannot store', () => {
  it('answers and caches chat text with U+0000 and a lone surrogate; the cleaned text hits the same entry', async () => {
    const m = marker('gw-nul');
    const openai = client();
    const odd = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `What is VAT?\u0000 ${m} \uD83D` }] })
      .withResponse();
    expect(odd.response.headers.get('x-cache')).toBe('MISS');
    expect(odd.response.headers.get('x-cache-warning')).toBeNull();
    const clean = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `What is VAT? ${m} \uFFFD` }] })
      .withResponse();
    expect(clean.response.headers.get('x-cache')).toBe('HIT');
    expect(await simCalls(m)).toBe(1);
  });

  it('caches an embedding item with U+0000 under the cleaned item; an item of nothing but U+0000 is a 400', async () => {
    const m = marker('gw-nul-embed');
    const openai = client();
    const odd = await openai.embeddings.create({ model: 'text-embedding-3-small', input: `${m}\u0000 text` })
      .withResponse();
    expect(odd.response.headers.get('x-cache')).toBe('MISS');
    const clean = await openai.embeddings.create({ model: 'text-embedding-3-small', input: `${m} text` })
      .withResponse();
    expect(clean.response.headers.get('x-cache')).toBe('HIT');
    const err = await openai.embeddings.create({ model: 'text-embedding-3-small', input: '\u0000' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
  });
});
