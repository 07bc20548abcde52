// The functions' configuration is validated once, at boot, with one schema: a bad value is a
// clear startup error naming the variable, not a 500 on every cache miss.
import { cpSync, mkdtempSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../supabase/functions/_shared/config.ts';
import { JWT_SECRET, ROOT } from '../src/stack/config.ts';
import { createFunctionsHost, type FunctionsHost } from '../src/stack/functions-host.ts';

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
    ['AI_DEFAULT_MODEL', { AI_DEFAULT_MODEL: 'gpt-unknown', AI_ALLOWED_MODELS: 'gpt-unknown' }, /AI_DEFAULT_MODEL: unknown model "gpt-unknown"/],
    ['AI_DEFAULT_MODEL', { AI_DEFAULT_MODEL: 'gpt-4o' , AI_ALLOWED_MODELS: 'gpt-4o-mini' }, /not one of AI_ALLOWED_MODELS/],
    ['AI_SUGGEST_MODEL', { AI_SUGGEST_MODEL: 'mystery' }, /AI_SUGGEST_MODEL: unknown model/],
    ['AI_CACHE_TTL_SECONDS', { AI_CACHE_TTL_SECONDS: 'a week' }, /AI_CACHE_TTL_SECONDS/],
    ['AI_CACHE_STORE_PROMPTS', { AI_CACHE_STORE_PROMPTS: 'yes' }, /AI_CACHE_STORE_PROMPTS/],
  ])('refuses a bad %s with a message naming it', (_name, vars, message) => {
    expect(() => parseConfig(vars)).toThrow(ConfigError);
    expect(() => parseConfig(vars)).toThrow(message);
  });
});

describe('a function with a bad configuration', () => {
  let host: FunctionsHost | undefined;
  afterAll(async () => {
    await host?.close();
  });

  it('does not boot, and the gateway answers 503 with the reason', async () => {
    // Only ai-suggest (and the shared code it imports), to boot one Deno worker.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fn-config-'));
    for (const name of ['_shared', 'ai-suggest']) cpSync(path.join(ROOT, 'supabase/functions', name), path.join(dir, name), { recursive: true });
    host = createFunctionsHost({
      functionsDir: dir,
      configToml: path.join(ROOT, 'supabase/config.toml'),
      denoBin: path.join(ROOT, 'node_modules/.bin/deno'),
      denoConfig: path.join(ROOT, 'deno.json'),
      basePort: Number(process.env.FUNCTIONS_BASE_PORT ?? 54340) + 50,
      jwtSecret: JWT_SECRET,
      env: { SUPABASE_URL: 'http://127.0.0.1:1', AI_CACHE_PRICES: '{"gpt-x":3}' },
    });
    const server = http.createServer((req, res) => void host!.handle(req, res, 'ai-suggest', '', ''));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/`, { method: 'POST', body: '{}' });
      expect(res.status).toBe(503);
      const body = (await res.json()) as { code: string; message: string };
      expect(body.code).toBe('BOOT_ERROR');
      expect(body.message).toMatch(/invalid function configuration/);
      expect(body.message).toMatch(/AI_CACHE_PRICES\.gpt-x/);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  }, 90_000);
});
