// The functions' configuration is validated once, at boot, with one schema: a bad value is a
// clear startup error naming the variable, not a 500 on every cache miss.
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../supabase/functions/_shared/config.ts';
import { type OneFunction, serveFunction } from './helpers/function-host.ts';

describe('parseConfig', () => {
  it('fills the documented defaults', () => {
    const c = parseConfig({});
    expect(c).toMatchObject({
      defaultModel: 'gpt-4o-mini',
      suggestModel: 'gpt-4o-mini',
      cacheTtlSeconds: 604800,
      leaseMs: 30000,
      storePrompts: true,
      chatMaxBodyBytes: 65536,
      dbTimeoutMs: 10000,
    });
    expect(c.allowedModels).toContain('gpt-4o');
    expect(c.prices['gpt-4o-mini']).toEqual({ input: 0.15, output: 0.6 });
    expect(c).toMatchObject({
      gatewayTtlSeconds: 604800,
      gatewayMaxBodyBytes: 4194304,
      gatewayMaxEmbeddingItems: 2048,
    });
    expect(c.gatewayModels).toEqual(expect.arrayContaining(['gpt-4o-mini', 'text-embedding-3-small']));
  });

  it('ai-gateway: its TTL follows AI_CACHE_TTL_SECONDS unless AI_GATEWAY_TTL_SECONDS is set; AI_GATEWAY_MODELS is a list', () => {
    expect(parseConfig({ AI_CACHE_TTL_SECONDS: '60' }).gatewayTtlSeconds).toBe(60);
    expect(parseConfig({ AI_CACHE_TTL_SECONDS: '60', AI_GATEWAY_TTL_SECONDS: '90' }).gatewayTtlSeconds).toBe(90);
    expect(parseConfig({ AI_GATEWAY_MODELS: 'gpt-4o, text-embedding-3-large ' }).gatewayModels).toEqual([
      'gpt-4o',
      'text-embedding-3-large',
    ]);
  });

  it('merges AI_CACHE_PRICES over the defaults, so a new model can be the default', () => {
    const c = parseConfig({
      AI_CACHE_PRICES: '{"my-model":{"input":1,"output":2}}',
      AI_DEFAULT_MODEL: 'my-model',
      AI_ALLOWED_MODELS: 'my-model, gpt-4o',
    });
    expect(c.prices['my-model']).toEqual({ input: 1, output: 2 });
    expect(c.prices['gpt-4o']).toEqual({ input: 2.5, output: 10 });
    expect(c.allowedModels).toEqual(['my-model', 'gpt-4o']);
  });

  it.each([
    ['AI_CACHE_PRICES', { AI_CACHE_PRICES: '{not json' }, /AI_CACHE_PRICES: is not valid JSON/],
    ['AI_CACHE_PRICES', { AI_CACHE_PRICES: '{"gpt-x":3}' }, /AI_CACHE_PRICES\.gpt-x/],
    ['AI_CACHE_PRICES', { AI_CACHE_PRICES: '{"gpt-x":{"input":-1,"output":1}}' }, /AI_CACHE_PRICES\.gpt-x\.input/],
    [
      'AI_DEFAULT_MODEL',
      { AI_DEFAULT_MODEL: 'gpt-unknown', AI_ALLOWED_MODELS: 'gpt-unknown' },
      /AI_DEFAULT_MODEL: unknown model "gpt-unknown"/,
    ],
    [
      'AI_DEFAULT_MODEL',
      { AI_DEFAULT_MODEL: 'gpt-4o', AI_ALLOWED_MODELS: 'gpt-4o-mini' },
      /not one of AI_ALLOWED_MODELS/,
    ],
    ['AI_SUGGEST_MODEL', { AI_SUGGEST_MODEL: 'mystery' }, /AI_SUGGEST_MODEL: unknown model/],
    ['AI_CACHE_TTL_SECONDS', { AI_CACHE_TTL_SECONDS: 'a week' }, /AI_CACHE_TTL_SECONDS/],
    ['AI_CACHE_STORE_PROMPTS', { AI_CACHE_STORE_PROMPTS: 'yes' }, /AI_CACHE_STORE_PROMPTS/],
    ['AI_GATEWAY_MAX_BODY_BYTES', { AI_GATEWAY_MAX_BODY_BYTES: '4 MB' }, /AI_GATEWAY_MAX_BODY_BYTES/],
    ['AI_GATEWAY_MAX_EMBEDDING_ITEMS', { AI_GATEWAY_MAX_EMBEDDING_ITEMS: '0' }, /AI_GATEWAY_MAX_EMBEDDING_ITEMS/],
    ['AI_GATEWAY_TTL_SECONDS', { AI_GATEWAY_TTL_SECONDS: 'forever' }, /AI_GATEWAY_TTL_SECONDS/],
    ['AI_GATEWAY_MODELS', { AI_GATEWAY_MODELS: ' , ' }, /AI_GATEWAY_MODELS/],
  ])('refuses a bad %s with a message naming it', (_name, vars, message) => {
    expect(() => parseConfig(vars)).toThrow(ConfigError);
    expect(() => parseConfig(vars)).toThrow(message);
  });
});

describe('a function with a bad configuration', () => {
  let fn: OneFunction | undefined;
  afterAll(async () => {
    await fn?.close();
  });

  it('does not boot, and the gateway answers 503 with the reason', async () => {
    fn = await serveFunction('ai-suggest', { SUPABASE_URL: 'http://127.0.0.1:1', AI_CACHE_PRICES: '{"gpt-x":3}' }, 50);
    const res = await fetch(fn.url, { method: 'POST', body: '{}' });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe('BOOT_ERROR');
    expect(body.message).toMatch(/invalid function configuration/);
    expect(body.message).toMatch(/AI_CACHE_PRICES\.gpt-x/);
  }, 90_000);
});
