// The typed client (src/client) against the local stack: every method, as a frontend uses it
// on top of its own supabase-js client (a signed-in user's, or the anon key's).
import { createClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AiCacheClient,
  AiCacheError,
  ChatDelta,
  createAiCacheClient,
  type Database,
} from '../../src/client/index.ts';
import {
  ANON_KEY,
  closeAdminSql,
  createCompany,
  createUser,
  marker,
  serviceClient,
  simCalls,
  simFault,
  SUPABASE_URL,
  type TestUser,
} from '../helpers/stack.ts';

let alice: TestUser; // owner of company A
let bob: TestUser; // member of company A
let eve: TestUser; // member of company B only
let companyA: string;
let companyB: string;
let ai: { alice: AiCacheClient; bob: AiCacheClient; eve: AiCacheClient; anon: AiCacheClient; service: AiCacheClient };

beforeAll(async () => {
  alice = await createUser('alice');
  bob = await createUser('bob');
  eve = await createUser('eve');
  companyA = await createCompany([[alice, 'owner'], [bob, 'member']]);
  companyB = await createCompany([[eve, 'owner']]);
  const anonSupabase = createClient<Database>(SUPABASE_URL, ANON_KEY, {
    auth: { persistSession: false, autoRefreshToken: false },
  });
  ai = {
    alice: createAiCacheClient(alice.client),
    bob: createAiCacheClient(bob.client),
    eve: createAiCacheClient(eve.client),
    anon: createAiCacheClient(anonSupabase),
    service: createAiCacheClient(serviceClient()),
  };
});

afterAll(async () => {
  await closeAdminSql();
});

/** The AiCacheError a promise rejects with. */
async function failure(p: Promise<unknown>): Promise<AiCacheError> {
  const err = await p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AiCacheError);
  return err as AiCacheError;
}

describe('client.chat', () => {
  it('answers, then serves the same question from the cache to a colleague', async () => {
    const m = marker('chat');
    const first = await ai.alice.chat({ companyId: companyA, message: `Quel est le taux de TVA ? ${m}` });
    expect(first).toMatchObject({ from_cache: false, cache: 'MISS' });
    expect(first.conversation_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.message_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.message).toContain(m);
    expect(first.usage.total_tokens).toBeGreaterThan(0);

    const second = await ai.bob.chat(companyA, `Quel est le taux de TVA ? ${m}`);
    expect(second).toMatchObject({ from_cache: true, cache: 'HIT', message: first.message });
    expect(second.conversation_id).not.toBe(first.conversation_id);
    expect(await simCalls(m)).toBe(1);
  });

  it('continues a conversation and passes cache controls', async () => {
    const m = marker('follow');
    const first = await ai.alice.chat({ companyId: companyA, message: `Bonjour ${m}`, contextType: 'accounting' });
    const next = await ai.alice.chat({
      companyId: companyA,
      conversationId: first.conversation_id,
      message: `Et ensuite ? ${m}`,
      cache: { noStore: true },
    });
    expect(next.conversation_id).toBe(first.conversation_id);
    expect(next.cache).toBe('BYPASS');
    const conversation = await ai.alice.conversations.get(first.conversation_id);
    expect(conversation.conversation.context_type).toBe('accounting');
    expect(conversation.messages.map((x) => x.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
  });

  it('surfaces server errors as AiCacheError with the server code and status', async () => {
    const forbidden = await failure(ai.eve.chat({ companyId: companyA, message: 'Hello' }));
    expect(forbidden).toMatchObject({ code: 'forbidden', status: 403 });
    const invalid = await failure(ai.alice.chat({ companyId: companyA, message: '   ' }));
    expect(invalid).toMatchObject({ code: 'invalid_request', status: 400 });
    expect(invalid.message).toMatch(/message/);
    const notCached = await failure(
      ai.alice.chat({ companyId: companyA, message: marker('oic'), cache: { onlyIfCached: true } }),
    );
    expect(notCached).toMatchObject({ code: 'not_cached', status: 504 });
    const anon = await failure(ai.anon.chat({ companyId: companyA, message: 'Hello' }));
    expect(anon).toMatchObject({ code: 'unauthorized', status: 401 });
  });
});

describe('client.chatStream', () => {
  it('yields the deltas of a miss, then of a replayed hit, with the final result', async () => {
    const m = marker('stream');
    const stream = ai.alice.chatStream({ companyId: companyA, message: `Explique le bilan comptable ${m}` });
    let text = '';
    const deltas: ChatDelta[] = [];
    for await (const delta of stream) {
      expect(delta).toBeInstanceOf(ChatDelta);
      deltas.push(delta);
      text += delta;
    }
    expect(deltas.length).toBeGreaterThan(1);
    expect(text).toBe(deltas.map((d) => d.content).join(''));
    const result = await stream.result;
    expect(result).toMatchObject({ message: text, from_cache: false, cache: 'MISS' });
    expect(result.conversation_id).toBe(stream.conversationId);
    expect(result.message_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.usage.total_tokens).toBeGreaterThan(0);
    expect(stream.cache).toBe('MISS');

    const replay = await ai.bob.chatStream(companyA, `Explique le bilan comptable ${m}`).collect();
    expect(replay).toMatchObject({ message: text, from_cache: true, cache: 'HIT' });
    expect(await simCalls(m)).toBe(1);

    const kept = await ai.alice.conversations.get(result.conversation_id);
    expect(kept.messages.at(-1)).toMatchObject({ role: 'assistant', content: text, id: result.message_id });
  });

  it('throws the server error when the stream fails midway, and rejects result', async () => {
    const m = marker('cut');
    await simFault({ type: 'cut_stream', afterChunks: 2, match: m });
    const stream = ai.alice.chatStream({ companyId: companyA, message: `Coupe ${m}` });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const d of stream) seen.push(d.content);
    })().catch((e) => e);
    expect(err).toBeInstanceOf(AiCacheError);
    expect(err).toMatchObject({ code: 'model_stream_failed', status: 502 });
    await expect(stream.result).rejects.toBeInstanceOf(AiCacheError);
  });

  it('throws request errors on the first iteration', async () => {
    const err = await failure(ai.eve.chatStream({ companyId: companyA, message: 'Hello' }).collect());
    expect(err).toMatchObject({ code: 'forbidden', status: 403 });
  });

  it('closes the connection and rejects result when the consumer stops early', async () => {
    const stream = ai.alice.chatStream({ companyId: companyA, message: `Long answer ${marker('early')}` });
    for await (const _ of stream) break;
    await expect(stream.result).rejects.toMatchObject({ code: 'aborted' });
  });
});

describe('client.suggest', () => {
  it('returns the seed 000 contract with the cache status, with the anon key and for users', async () => {
    const m = marker('suggest');
    const first = await ai.anon.suggest(`Site web pour mon restaurant ${m}`);
    expect(first).toMatchObject({ success: true, from_cache: false, cache: 'MISS' });
    expect(typeof first.suggestions.type_projet).toBe('string');
    expect(Number.isInteger(first.suggestions.nombre_pages)).toBe(true);
    expect(typeof first.suggestions.delai_souhaite).toBe('string');
    expect(typeof first.suggestions.budget).toBe('string');
    expect(typeof first.explication).toBe('string');

    const second = await ai.alice.suggest({ description: `  SITE WEB pour mon restaurant ${m}` });
    expect(second).toMatchObject({
      from_cache: true,
      cache: 'HIT',
      suggestions: first.suggestions,
      explication: first.explication,
    });
    expect(await simCalls(m)).toBe(1);
  });

  it('uses a company scope for members and refuses it to others', async () => {
    const m = marker('scope');
    const own = await ai.alice.suggest(`E-commerce de vêtements ${m}`, { companyId: companyA });
    expect(own.cache).toBe('MISS');
    const colleague = await ai.bob.suggest({ description: `e-commerce de vêtements ${m}`, companyId: companyA });
    expect(colleague.cache).toBe('HIT');
    const outsider = await failure(ai.eve.suggest(`E-commerce de vêtements ${m}`, { companyId: companyA }));
    expect(outsider).toMatchObject({ code: 'forbidden', status: 403 });
  });

  it('surfaces validation, cache-control and rate-limit errors', async () => {
    const tooLong = await failure(ai.anon.suggest('x'.repeat(2001)));
    expect(tooLong).toMatchObject({ code: 'invalid_request', status: 400 });
    expect(tooLong.message).toMatch(/description_projet/);
    const notCached = await failure(ai.anon.suggest(`Portfolio ${marker('nc')}`, { cache: { onlyIfCached: true } }));
    expect(notCached).toMatchObject({ code: 'not_cached', status: 504 });

    const dave = await createUser('dave');
    const daveAi = createAiCacheClient(dave.client);
    const m = marker('rl');
    let limited: AiCacheError | undefined;
    for (let i = 0; i < 40 && !limited; i++) {
      limited = await daveAi.suggest(`Blog ${m}`).then(() => undefined, (e: AiCacheError) => e);
    }
    expect(limited).toBeInstanceOf(AiCacheError);
    expect(limited).toMatchObject({ code: 'rate_limited', status: 429 });
    expect(limited!.retryAfter).toBeGreaterThanOrEqual(1);
  });
});

describe('client.conversations', () => {
  it('lists with paging, newest first, archived ones only on request', async () => {
    const frank = await createUser('frank');
    const company = await createCompany([[frank, 'member']]);
    const other = await createCompany([[frank, 'member']]);
    const fai = createAiCacheClient(frank.client);
    const m = marker('list');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await fai.chat({ companyId: company, message: `Question ${i} ${m}` })).conversation_id);
    }
    await fai.chat({ companyId: other, message: `Ailleurs ${m}` });

    const p1 = await fai.conversations.list({ page: 1, pageSize: 2, companyId: company });
    expect(p1).toMatchObject({ total: 5, page: 1, pageSize: 2, hasMore: true });
    expect(p1.items.map((c) => c.id)).toEqual([ids[4], ids[3]]);
    const p3 = await fai.conversations.list({ page: 3, pageSize: 2, companyId: company });
    expect(p3.items.map((c) => c.id)).toEqual([ids[0]]);
    expect(p3.hasMore).toBe(false);
    const past = await fai.conversations.list({ page: 9, pageSize: 2, companyId: company });
    expect(past).toMatchObject({ items: [], hasMore: false });

    const all = await fai.conversations.list();
    expect(all.total).toBe(6);
    expect(all.items).toHaveLength(6);

    await fai.conversations.archive(ids[2]);
    const active = await fai.conversations.list({ companyId: company });
    expect(active.total).toBe(4);
    expect(active.items.map((c) => c.id)).not.toContain(ids[2]);
    const withArchived = await fai.conversations.list({ companyId: company, includeArchived: true });
    expect(withArchived.total).toBe(5);

    // Nobody else sees them.
    expect((await ai.alice.conversations.list({ companyId: company })).total).toBe(0);
    await expect(fai.conversations.list({ page: 0 })).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(fai.conversations.list({ pageSize: 1000 })).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('gets a conversation with its messages in order; others get not_found', async () => {
    const m = marker('get');
    const reply = await ai.alice.chat({ companyId: companyA, message: `Première question ${m}` });
    const got = await ai.alice.conversations.get(reply.conversation_id);
    expect(got.conversation).toMatchObject({
      id: reply.conversation_id,
      company_id: companyA,
      user_id: alice.id,
      message_count: 2,
    });
    expect(got.messages.map((x) => [x.role, x.content])).toEqual([
      ['user', `Première question ${m}`],
      ['assistant', reply.message],
    ]);
    const stranger = await failure(ai.bob.conversations.get(reply.conversation_id));
    expect(stranger).toMatchObject({ code: 'not_found', status: 404 });
    const malformed = await failure(ai.alice.conversations.get('not-a-uuid'));
    expect(malformed).toMatchObject({ code: 'invalid_request', status: 400 });
  });

  it('renames, archives, unarchives and deletes', async () => {
    const { conversation_id: id } = await ai.alice.chat({
      companyId: companyA,
      message: `À renommer ${marker('crud')}`,
    });
    const renamed = await ai.alice.conversations.rename(id, '  Budget 2027  ');
    expect(renamed).toMatchObject({ id, title: 'Budget 2027' });
    await expect(ai.alice.conversations.rename(id, ' ')).rejects.toMatchObject({ code: 'invalid_request' });
    expect(await ai.alice.conversations.archive(id)).toMatchObject({ id, is_archived: true });
    expect(await ai.alice.conversations.archive(id, false)).toMatchObject({ id, is_archived: false });
    expect(await ai.alice.conversations.archive(id)).toMatchObject({ is_archived: true });
    expect(await ai.alice.conversations.unarchive(id)).toMatchObject({ is_archived: false });

    // Another user cannot touch it.
    await expect(ai.bob.conversations.rename(id, 'pwned')).rejects.toMatchObject({ code: 'not_found', status: 404 });
    await expect(ai.bob.conversations.delete(id)).rejects.toMatchObject({ code: 'not_found' });
    expect((await ai.alice.conversations.get(id)).conversation.title).toBe('Budget 2027');

    await ai.alice.conversations.delete(id);
    await expect(ai.alice.conversations.get(id)).rejects.toMatchObject({ code: 'not_found' });
    await expect(ai.alice.conversations.delete(id)).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('client.cacheStats', () => {
  it('gives owners and admins their company statistics, and refuses members', async () => {
    const m = marker('stats');
    await ai.alice.chat({ companyId: companyA, message: `Stats ${m}` });
    await ai.bob.chat({ companyId: companyA, message: `Stats ${m}` });
    const stats = await ai.alice.cacheStats(companyA);
    expect(stats).toMatchObject({ scope: 'company', company_id: companyA });
    expect(stats.hits).toBeGreaterThanOrEqual(1);
    expect(stats.misses).toBeGreaterThanOrEqual(1);
    expect(stats.entries).toBeGreaterThanOrEqual(1);
    expect(stats.by_type.find((t) => t.cache_type === 'chat')).toBeDefined();

    const member = await failure(ai.bob.cacheStats(companyA));
    expect(member).toMatchObject({ code: 'forbidden', status: 403, serverCode: '42501' });
    const other = await failure(ai.eve.cacheStats(companyA));
    expect(other.code).toBe('forbidden');
    const noCompany = await failure(ai.alice.cacheStats());
    expect(noCompany.code).toBe('forbidden');
    expect((await ai.eve.cacheStats(companyB)).scope).toBe('company');
  });

  it('gives the service role the statistics of everything', async () => {
    const all = await ai.service.cacheStats();
    expect(all.scope).toBe('all');
    expect(all.by_type.map((t) => t.cache_type)).toEqual(expect.arrayContaining(['chat', 'suggestions']));
  });

  it('gives conversation statistics to members', async () => {
    const stats = (await ai.bob.conversationStats(companyA)) as { scope: string; conversations: number };
    expect(stats.scope).toBe('user');
    expect(stats.conversations).toBeGreaterThanOrEqual(1);
  });
});
