// The new Supabase API keys next to the legacy JWT keys, as on a hosted project:
// sb_publishable_… (anon) and sb_secret_… (service role) are opaque strings, not JWTs.
// supabase-js sends the key as both `apikey` and the bearer when nobody is signed in.
import { createClient, FunctionsHttpError } from '@supabase/supabase-js';
import { describe, expect, it } from 'vitest';
import { createUser, FUNCTIONS_URL, marker, SUPABASE_URL } from '../helpers/stack.ts';
import { stackEnv } from '../../src/stack/config.ts';

const PUBLISHABLE_KEY = process.env.SUPABASE_PUBLISHABLE_KEY ?? stackEnv().SUPABASE_PUBLISHABLE_KEY;
const SECRET_KEY = process.env.SUPABASE_SECRET_KEY ?? stackEnv().SUPABASE_SECRET_KEY;
const options = { auth: { persistSession: false, autoRefreshToken: false } };

describe('publishable key', () => {
  it('lets supabase-js call ai-suggest anonymously (rate limited per client address)', async () => {
    const supabase = createClient(SUPABASE_URL, PUBLISHABLE_KEY, options);
    const { data, error, response } = await supabase.functions.invoke('ai-suggest', {
      body: { description_projet: `Site vitrine pour une boulangerie ${marker('pk')}` },
    });
    expect(error).toBeNull();
    expect(data).toMatchObject({ success: true, from_cache: false });
    expect(response?.headers.get('x-ratelimit-limit')).toBe('60');
  });

  it('acts as anon on /rest/v1: no access to tables under RLS without a user', async () => {
    const supabase = createClient(SUPABASE_URL, PUBLISHABLE_KEY, options);
    const { error, status } = await supabase.from('ai_conversations').select('id').limit(1);
    expect(status).toBe(401);
    expect(error?.code).toBe('42501');
  });

  it('carries a signed-in user: the user JWT as bearer, the publishable key as apikey', async () => {
    const user = await createUser('pk');
    const supabase = createClient(SUPABASE_URL, PUBLISHABLE_KEY, {
      ...options,
      global: { headers: { Authorization: `Bearer ${user.jwt}` } },
    });
    const { data, error } = await supabase.from('ai_conversations').select('id');
    expect(error).toBeNull();
    expect(data).toEqual([]);
  });

  it('an unknown sb_ key is refused by the gateway and by the functions', async () => {
    const forged = 'sb_publishable_notAKeyOfThisProject0000000';
    const rest = await fetch(`${SUPABASE_URL}/rest/v1/ai_conversations?select=id`, {
      headers: { apikey: forged, authorization: `Bearer ${forged}` },
    });
    expect(rest.status).toBe(401);
    expect(await rest.json()).toMatchObject({ message: 'Invalid API key' });

    const supabase = createClient(SUPABASE_URL, forged, options);
    const { error } = await supabase.functions.invoke('ai-suggest', { body: { description_projet: 'Site vitrine' } });
    expect(error).toBeInstanceOf(FunctionsHttpError);
    const res = (error as FunctionsHttpError).context as Response;
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ success: false, error: { code: 'invalid_api_key' } });
  });
});

describe('secret key', () => {
  it('is the service role on /rest/v1 (service-only RPCs answer)', async () => {
    const supabase = createClient(SUPABASE_URL, SECRET_KEY, options);
    const { data, error } = await supabase.rpc('get_cache_stats', {});
    expect(error).toBeNull();
    expect(data).toHaveProperty('by_type');
  });

  it('calls ai-suggest as a trusted backend: not rate limited', async () => {
    const supabase = createClient(SUPABASE_URL, SECRET_KEY, options);
    const { data, error, response } = await supabase.functions.invoke('ai-suggest', {
      body: { description_projet: `Application mobile de livraison ${marker('sk')}` },
    });
    expect(error).toBeNull();
    expect(data).toMatchObject({ success: true });
    expect(response?.headers.get('x-ratelimit-limit')).toBeNull();
  });

  it('alone in the apikey header (no bearer) identifies the caller too', async () => {
    const res = await fetch(`${FUNCTIONS_URL}/ai-suggest`, {
      method: 'POST',
      headers: { apikey: SECRET_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ description_projet: `Logiciel de caisse ${marker('sk')}` }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-ratelimit-limit')).toBeNull();
  });
});

describe('user sessions with the new keys', () => {
  it('ai-chat takes a user JWT with the publishable key as apikey', async () => {
    const user = await createUser('pk-chat');
    const companyId = crypto.randomUUID();
    const supabase = createClient(SUPABASE_URL, PUBLISHABLE_KEY, {
      ...options,
      global: { headers: { Authorization: `Bearer ${user.jwt}` } },
    });
    const { error } = await supabase.functions.invoke('ai-chat', {
      body: { company_id: companyId, message: 'Bonjour' },
    });
    // Not a member of that company: the function identified the user and checked membership.
    const res = (error as FunctionsHttpError).context as Response;
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: 'forbidden' } });
  });
});
