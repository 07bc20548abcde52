// The Edge Functions host: index.ts served unchanged by Deno, verify_jwt, CORS, env, streaming.
import http from 'node:http';
import path from 'node:path';
import { createClient, FunctionsHttpError } from '@supabase/supabase-js';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ANON_KEY,
  DB_URL,
  denoExecutable,
  FUNCTIONS_BASE_PORT,
  JWT_SECRET,
  ROOT,
  SERVICE_ROLE_KEY,
} from '../src/stack/config.ts';
import { createFunctionsHost, type FunctionsHost } from '../src/stack/functions-host.ts';

let host: FunctionsHost;
let server: http.Server;
let url: string;

async function userJwt(sub: string, secret = JWT_SECRET, expiresIn = '1h') {
  return new SignJWT({ sub, role: 'authenticated', aud: 'authenticated' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}

beforeAll(async () => {
  host = createFunctionsHost({
    functionsDir: path.join(ROOT, 'test/fixtures/functions'),
    configToml: path.join(ROOT, 'test/fixtures/config.toml'),
    denoBin: denoExecutable(),
    denoConfig: path.join(ROOT, 'deno.json'),
    // Past the stack's own function workers, so two stacks on one machine never collide.
    basePort: FUNCTIONS_BASE_PORT + 40,
    jwtSecret: JWT_SECRET,
    env: {
      SUPABASE_URL: 'http://127.0.0.1:1',
      SUPABASE_ANON_KEY: ANON_KEY,
      SUPABASE_SERVICE_ROLE_KEY: SERVICE_ROLE_KEY,
      SUPABASE_DB_URL: DB_URL,
    },
  });
  server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const [, , , name, ...rest] = u.pathname.split('/');
    void host.handle(req, res, name, rest.length ? '/' + rest.join('/') : '', u.search);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  await host.warmAll();
});

afterAll(async () => {
  server?.closeAllConnections();
  server?.close();
  await host?.close();
});

describe('functions host', () => {
  it('lists function folders, skipping _shared-style ones', () => {
    expect(host.names()).toEqual(['hello', 'open']);
  });

  it('serves a function to supabase-js functions.invoke with the env a hosted function gets', async () => {
    const supabase = createClient(url, ANON_KEY);
    const { data, error } = await supabase.functions.invoke('hello', { body: { hi: 1 } });
    expect(error).toBeNull();
    expect(data).toMatchObject({
      method: 'POST',
      path: '/hello',
      body: { hi: 1 },
      authorization: `Bearer ${ANON_KEY}`,
    });
    expect(data.env).toEqual({
      SUPABASE_URL: 'http://127.0.0.1:1',
      SUPABASE_ANON_KEY: ANON_KEY,
      SUPABASE_SERVICE_ROLE_KEY: SERVICE_ROLE_KEY,
      SUPABASE_DB_URL: DB_URL,
    });
  });

  it('passes a signed-in user JWT through and keeps sub-paths and query strings', async () => {
    const token = await userJwt('7d8e3c1a-0000-4000-8000-000000000001');
    const res = await fetch(`${url}/functions/v1/hello/sub/path?x=1`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      method: 'GET',
      path: '/hello/sub/path',
      search: '?x=1',
      authorization: `Bearer ${token}`,
    });
  });

  it('refuses a missing, forged or expired JWT when verify_jwt is on', async () => {
    const missing = await fetch(`${url}/functions/v1/hello`, { method: 'POST' });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ code: 401, message: 'Missing authorization header' });

    const forged = await userJwt('u', 'not-the-secret-not-the-secret-not-the-secret');
    const f = await fetch(`${url}/functions/v1/hello`, { headers: { authorization: `Bearer ${forged}` } });
    expect(f.status).toBe(401);
    expect(await f.json()).toEqual({ code: 401, message: 'Invalid JWT' });

    const expired = await new SignJWT({ sub: 'u', role: 'authenticated' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(JWT_SECRET));
    const e = await fetch(`${url}/functions/v1/hello`, { headers: { authorization: `Bearer ${expired}` } });
    expect(e.status).toBe(401);

    const supabase = createClient(url, ANON_KEY, { global: { headers: { Authorization: `Bearer ${forged}` } } });
    const { error } = await supabase.functions.invoke('hello', { body: {} });
    expect(error).toBeInstanceOf(FunctionsHttpError);
  });

  it('lets functions declared verify_jwt = false in config.toml through without a JWT', async () => {
    const res = await fetch(`${url}/functions/v1/open`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ open: true });
  });

  it('forwards CORS preflight to the function without requiring a JWT', async () => {
    const res = await fetch(`${url}/functions/v1/hello`, {
      method: 'OPTIONS',
      headers: { origin: 'http://app.example', 'access-control-request-method': 'POST' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-headers')).toContain('apikey');
  });

  it('streams server-sent events through unchanged', async () => {
    const res = await fetch(`${url}/functions/v1/hello/stream`, { headers: { authorization: `Bearer ${ANON_KEY}` } });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(await res.text()).toBe('data: a\n\ndata: b\n\ndata: c\n\n');
  });

  it('answers 404 JSON for an unknown function', async () => {
    const res = await fetch(`${url}/functions/v1/nope`, { headers: { authorization: `Bearer ${ANON_KEY}` } });
    expect(res.status).toBe(404);
    expect((await res.json()).message).toContain('nope');
  });
});
