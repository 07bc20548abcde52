// The product's tables and RPCs through the local /rest/v1 with supabase-js used unchanged, as a
// frontend (user JWT, RLS) and as an admin would: isolation between users and companies,
// PostgREST error shapes, and JWTs refused.
import { createClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminSql,
  ANON_KEY,
  closeAdminSql,
  createCompany,
  createUser,
  serviceClient,
  signJwt,
  SUPABASE_URL,
  type TestUser,
} from '../helpers/stack.ts';

let alice: TestUser; // member of A
let bob: TestUser; // member of A
let carol: TestUser; // admin of A
let dave: TestUser; // owner of B
let companyA: string;
let companyB: string;
let aliceConversation: string;
let daveConversation: string;

beforeAll(async () => {
  [alice, bob, carol, dave] = await Promise.all([
    createUser('alice'),
    createUser('bob'),
    createUser('carol'),
    createUser('dave'),
  ]);
  companyA = await createCompany([[alice, 'member'], [bob, 'member'], [carol, 'admin']]);
  companyB = await createCompany([[dave, 'owner']]);
  const sql = adminSql();
  [{ id: aliceConversation }] =
    await sql`insert into public.ai_conversations (company_id, user_id, title) values (${companyA}, ${alice.id}, 'alice one') returning id`;
  await sql`insert into public.ai_conversations (company_id, user_id, title, is_archived) values (${companyA}, ${alice.id}, 'alice two', true)`;
  [{ id: daveConversation }] =
    await sql`insert into public.ai_conversations (company_id, user_id, title) values (${companyB}, ${dave.id}, 'dave one') returning id`;
  await sql`insert into public.ai_messages (conversation_id, role, content) values (${aliceConversation}, 'user', 'hello'), (${aliceConversation}, 'assistant', 'hi there')`;
  const key = (c: string) => c.repeat(64);
  await sql`insert into public.ai_cache (company_id, cache_key, cache_type, model, cached_result, prompt_tokens, completion_tokens, cost_usd, expires_at)
            values (${companyA}, ${
    key('a')
  }, 'chat', 'gpt-4o-mini', '{"message":{"content":"A"}}', 10, 5, 0.001, now() + interval '1 day'),
                   (${companyB}, ${
    key('b')
  }, 'chat', 'gpt-4o-mini', '{"message":{"content":"B"}}', 10, 5, 0.001, now() + interval '1 day')`;
});

afterAll(async () => {
  await closeAdminSql();
});

describe('conversations under RLS through /rest/v1', () => {
  it('a user lists only their own conversations, with filters, order, limit and an exact count', async () => {
    const { data, error, count } = await alice.client
      .from('ai_conversations')
      .select('id, title, is_archived, message_count', { count: 'exact' })
      .eq('company_id', companyA)
      .order('title', { ascending: true })
      .limit(10);
    expect(error).toBeNull();
    expect(count).toBe(2);
    expect(data!.map((c) => c.title)).toEqual(['alice one', 'alice two']);
    expect(data![0].message_count).toBe(2);

    const active = await alice.client.from('ai_conversations').select('title').eq('is_archived', false);
    expect(active.data).toEqual([{ title: 'alice one' }]);

    const bobs = await bob.client.from('ai_conversations').select('id');
    expect(bobs.data).toEqual([]);
    const daves = await dave.client.from('ai_conversations').select('id, title');
    expect(daves.data).toEqual([{ id: daveConversation, title: 'dave one' }]);
  });

  it('.single() finds one visible row and refuses an invisible one as PostgREST does (PGRST116, 406)', async () => {
    const own = await alice.client.from('ai_conversations').select('title').eq('id', aliceConversation).single();
    expect(own.data).toEqual({ title: 'alice one' });
    const other = await bob.client.from('ai_conversations').select('title').eq('id', aliceConversation).single();
    expect(other.data).toBeNull();
    expect(other.error?.code).toBe('PGRST116');
    expect(other.status).toBe(406);
    const maybe = await bob.client.from('ai_conversations').select('title').eq('id', aliceConversation).maybeSingle();
    expect(maybe.error).toBeNull();
    expect(maybe.data).toBeNull();
  });

  it('a user creates conversations only for themselves in their own companies', async () => {
    const ok = await bob.client.from('ai_conversations').insert({ company_id: companyA, title: 'bob new' }).select(
      'user_id, company_id, context_type',
    ).single();
    expect(ok.error).toBeNull();
    expect(ok.data).toEqual({ user_id: bob.id, company_id: companyA, context_type: 'general' });

    const elsewhere = await bob.client.from('ai_conversations').insert({ company_id: companyB, title: 'intrusion' });
    expect(elsewhere.error?.code).toBe('42501');
    expect(elsewhere.status).toBe(403);

    const asAlice = await bob.client.from('ai_conversations').insert({
      company_id: companyA,
      user_id: alice.id,
      title: 'forged',
    });
    expect(asAlice.error?.code).toBe('42501');
    const [{ n }] =
      await adminSql()`select count(*)::int as n from public.ai_conversations where title in ('intrusion', 'forged')`;
    expect(n).toBe(0);
  });

  it("a user renames and archives their own conversation but cannot touch another user's", async () => {
    const mine = await alice.client.from('ai_conversations').update({ title: 'renamed' }).eq('id', aliceConversation)
      .select('title');
    expect(mine.data).toEqual([{ title: 'renamed' }]);
    const theirs = await bob.client.from('ai_conversations').update({ title: 'hijacked' }).eq('id', aliceConversation)
      .select('title');
    expect(theirs.data).toEqual([]);
    const [{ title }] = await adminSql()`select title from public.ai_conversations where id = ${aliceConversation}`;
    expect(title).toBe('renamed');
  });

  it("a user reads messages of their own conversations only, and cannot post into others'", async () => {
    const mine = await alice.client.from('ai_messages').select('role, content').eq('conversation_id', aliceConversation)
      .order('seq');
    expect(mine.data).toEqual([{ role: 'user', content: 'hello' }, { role: 'assistant', content: 'hi there' }]);
    const spy = await dave.client.from('ai_messages').select('content').eq('conversation_id', aliceConversation);
    expect(spy.data).toEqual([]);
    const post = await dave.client.from('ai_messages').insert({
      conversation_id: aliceConversation,
      role: 'user',
      content: 'boo',
    });
    expect(post.error?.code).toBe('42501');
  });

  it('get_conversation_with_messages returns the conversation with ordered messages to its owner only', async () => {
    const { data, error } = await alice.client.rpc('get_conversation_with_messages', {
      p_conversation_id: aliceConversation,
    });
    expect(error).toBeNull();
    expect(data.conversation.id).toBe(aliceConversation);
    expect(data.messages.map((m: { content: string }) => m.content)).toEqual(['hello', 'hi there']);
    const other = await dave.client.rpc('get_conversation_with_messages', { p_conversation_id: aliceConversation });
    expect(other.data?.conversation ?? null).toBeNull();
  });

  it('deleting a conversation removes its messages', async () => {
    const { data: created } = await bob.client.from('ai_conversations').insert({
      company_id: companyA,
      title: 'to delete',
    }).select('id').single();
    await bob.client.from('ai_messages').insert({ conversation_id: created!.id, role: 'user', content: 'bye' });
    const del = await bob.client.from('ai_conversations').delete().eq('id', created!.id);
    expect(del.error).toBeNull();
    const [{ n }] = await adminSql()`select count(*)::int as n from public.ai_messages where conversation_id = ${
      created!.id
    }`;
    expect(n).toBe(0);
  });
});

describe('cache entries and stats', () => {
  it('raw cache entries are visible to company admins only, never across companies', async () => {
    expect((await alice.client.from('ai_cache').select('id')).data).toEqual([]);
    const admin = await carol.client.from('ai_cache').select('company_id, cache_type');
    expect(admin.data).toEqual([{ company_id: companyA, cache_type: 'chat' }]);
    const owner = await dave.client.from('ai_cache').select('company_id');
    expect(owner.data).toEqual([{ company_id: companyB }]);
  });

  it('nobody but the service role writes the cache', async () => {
    const write = await carol.client.from('ai_cache').insert({
      company_id: companyA,
      cache_key: 'c'.repeat(64),
      cache_type: 'chat',
      model: 'x',
      cached_result: {},
      expires_at: new Date(Date.now() + 3600e3).toISOString(),
    });
    expect(write.error?.code).toBe('42501');
    const del = await carol.client.from('ai_cache').delete().eq('company_id', companyA).select('id');
    expect(del.data ?? []).toEqual([]);
  });

  it('get_cache_stats answers a company admin, refuses a plain member, and covers everything for the service role', async () => {
    const admin = await carol.client.rpc('get_cache_stats', { p_company_id: companyA });
    expect(admin.error).toBeNull();
    expect(admin.data.entries).toBe(1);
    const member = await alice.client.rpc('get_cache_stats', { p_company_id: companyA });
    expect(member.error?.code).toBe('42501');
    expect(member.status).toBe(403);
    const foreign = await carol.client.rpc('get_cache_stats', { p_company_id: companyB });
    expect(foreign.error?.code).toBe('42501');
    const all = await serviceClient().rpc('get_cache_stats', { p_company_id: null });
    expect(all.error).toBeNull();
    expect(all.data.entries).toBeGreaterThanOrEqual(2);
  });

  it('the hot-path RPCs are not callable by users or anon', async () => {
    const args = { p_company_id: companyB, p_cache_key: 'b'.repeat(64), p_cache_type: 'chat' };
    const user = await dave.client.rpc('cache_lookup', args);
    expect(user.error?.code).toBe('42501');
    expect(user.data).toBeNull();
    const anon = createClient(SUPABASE_URL, ANON_KEY);
    const a = await anon.rpc('cache_lookup', args);
    expect(a.error?.code).toBe('42501');
    expect(a.status).toBe(401);
    const turn = await dave.client.rpc('chat_turn', {
      p_user_id: dave.id,
      p_company_id: companyB,
      p_conversation_id: null,
      p_context_type: 'general',
      p_message: 'x',
    });
    expect(turn.error?.code).toBe('42501');
  });
});

describe('JWTs', () => {
  it('anon sees nothing of the product tables', async () => {
    const anon = createClient(SUPABASE_URL, ANON_KEY);
    for (const table of ['ai_conversations', 'ai_messages', 'ai_cache', 'company_members']) {
      const { data, error } = await anon.from(table).select('*').limit(1);
      expect(data ?? []).toEqual([]);
      if (error) expect(error.code).toBe('42501');
    }
  });

  // PostgREST tolerates 30 s of clock skew, so the token expired well before that.
  it('an expired or forged JWT is refused with 401', async () => {
    const expired = await signJwt({ sub: alice.id, role: 'authenticated', aud: 'authenticated' }, {
      expiresIn: Math.floor(Date.now() / 1000) - 3600,
    });
    const forged = await signJwt({ sub: alice.id, role: 'authenticated', aud: 'authenticated' }, {
      secret: 'x'.repeat(40),
    });
    for (const jwt of [expired, forged]) {
      const client = createClient(SUPABASE_URL, ANON_KEY, { global: { headers: { Authorization: `Bearer ${jwt}` } } });
      const { data, error, status } = await client.from('ai_conversations').select('id');
      expect(status).toBe(401);
      expect(data).toBeNull();
      expect(error?.code).toMatch(/^PGRST30[0-9]$/);
    }
  });

  it('a service_role JWT that claims another role cannot read as that user', async () => {
    const tokenForAlice = await signJwt({ sub: alice.id, role: 'authenticated', aud: 'authenticated' });
    const asAlice = createClient(SUPABASE_URL, ANON_KEY, {
      global: { headers: { Authorization: `Bearer ${tokenForAlice}` } },
    });
    const { data } = await asAlice.from('ai_conversations').select('id').eq('company_id', companyB);
    expect(data).toEqual([]);
  });
});
