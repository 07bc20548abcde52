// Builds a throwaway database with the Supabase bootstrap plus test/rest/fixture.sql, and serves
// the REST handler on an ephemeral port, the way the gateway mounts it at /rest/v1.
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import postgres from 'postgres';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { ANON_KEY, DB_HOST, DB_PASSWORD, DB_PORT, JWT_SECRET, ROOT, SERVICE_ROLE_KEY } from '../../src/stack/config.ts';
import { createRestHandler, type RestHandler, type RestOptions } from '../../src/rest/index.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ALICE = '11111111-1111-4111-8111-111111111111';
export const BOB = '22222222-2222-4222-8222-222222222222';
export { ANON_KEY, JWT_SECRET, SERVICE_ROLE_KEY };

const adminUrl = (db: string) => `postgresql://postgres:${DB_PASSWORD}@${DB_HOST}:${DB_PORT}/${db}`;
const authenticatorUrl = (db: string) => `postgresql://authenticator:${DB_PASSWORD}@${DB_HOST}:${DB_PORT}/${db}`;

function psql(db: string, file: string): void {
  execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', adminUrl(db), '-f', file], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

/** Drops and recreates `db`, then applies the bootstrap and the fixture. Idempotent. */
export async function createFixtureDb(db: string): Promise<{ adminUrl: string; authenticatorUrl: string }> {
  const admin = postgres(adminUrl('postgres'), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists "${db}" with (force)`);
    await admin.unsafe(`create database "${db}"`);
  } finally {
    await admin.end();
  }
  psql(db, path.join(ROOT, 'src/stack/sql/bootstrap.sql'));
  psql(db, path.join(here, 'fixture.sql'));
  return { adminUrl: adminUrl(db), authenticatorUrl: authenticatorUrl(db) };
}

export async function dropFixtureDb(db: string): Promise<void> {
  const admin = postgres(adminUrl('postgres'), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists "${db}" with (force)`);
  } finally {
    await admin.end();
  }
}

export interface RestServer {
  /** Base URL for supabase-js (`createClient(url, key)`). */
  url: string;
  /** `${url}/rest/v1` */
  restUrl: string;
  handler: RestHandler;
  close(): Promise<void>;
}

export async function startRestServer(options: RestOptions): Promise<RestServer> {
  const handler = await createRestHandler(options);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    if (!url.pathname.startsWith('/rest/v1')) {
      res.writeHead(404).end();
      return;
    }
    void handler.handle(req, res, url.pathname.slice('/rest/v1'.length) || '/', url.searchParams);
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    restUrl: `${url}/rest/v1`,
    handler,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await handler.close();
    },
  };
}

/** A user's access token as GoTrue would sign it. */
export function mintJwt(
  claims: Record<string, unknown>,
  expiresInSeconds = 3600,
  secret = JWT_SECRET,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ aud: 'authenticated', role: 'authenticated', ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + expiresInSeconds)
    .sign(new TextEncoder().encode(secret));
}

export interface Suite {
  server: RestServer;
  db: { adminUrl: string; authenticatorUrl: string };
  anon: SupabaseClient;
  alice: SupabaseClient;
  bob: SupabaseClient;
  service: SupabaseClient;
  aliceJwt: string;
  /** Raw HTTP for what supabase-js cannot express (missing apikey, odd headers). */
  fetchRest(path: string, init?: RequestInit & { apikey?: string | null }): Promise<Response>;
  close(): Promise<void>;
}

export function client(url: string, key: string, token?: string): SupabaseClient {
  return createClient(url, key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: token ? { headers: { Authorization: `Bearer ${token}` } } : undefined,
  });
}

/** One database per test file (files run in parallel), served on an ephemeral port. */
export async function startSuite(dbName: string, options: Partial<RestOptions> = {}): Promise<Suite> {
  const db = await createFixtureDb(dbName);
  const server = await startRestServer({ dbUrl: db.authenticatorUrl, jwtSecret: JWT_SECRET, poolSize: 4, ...options });
  const aliceJwt = await mintJwt({ sub: ALICE, email: 'alice@example.com' });
  const bobJwt = await mintJwt({ sub: BOB, email: 'bob@example.com' });
  return {
    server,
    db,
    anon: client(server.url, ANON_KEY),
    alice: client(server.url, ANON_KEY, aliceJwt),
    bob: client(server.url, ANON_KEY, bobJwt),
    service: client(server.url, SERVICE_ROLE_KEY),
    aliceJwt,
    fetchRest(p, init = {}) {
      const { apikey = ANON_KEY, headers, ...rest } = init;
      const h = new Headers(headers);
      if (apikey !== null && !h.has('apikey')) h.set('apikey', apikey);
      return fetch(server.restUrl + p, { ...rest, headers: h });
    },
    async close() {
      await server.close();
      await dropFixtureDb(dbName);
    },
  };
}
