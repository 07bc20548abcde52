// Projects on asymmetric JWT signing keys: user tokens (ES256 here) are verified with the
// project's JWKS, which a hosted project hands its functions as SUPABASE_JWKS. The function
// runs against the local stack's database with secret keys only (no legacy service-role JWT).
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackEnv } from '../src/stack/config.ts';
import { type OneFunction, serveFunction } from './helpers/function-host.ts';
import { closeAdminSql, createUser, marker, OPENAI_BASE_URL, SUPABASE_URL } from './helpers/stack.ts';

const env = stackEnv();
let fn: OneFunction;
let signingKey: CryptoKey;
let strangerKey: CryptoKey;

async function es256(sub: string, key: CryptoKey, kid: string) {
  return new SignJWT({ sub, role: 'authenticated', aud: 'authenticated' })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(key);
}

beforeAll(async () => {
  const project = await generateKeyPair('ES256');
  const stranger = await generateKeyPair('ES256');
  signingKey = project.privateKey;
  strangerKey = stranger.privateKey;
  const jwk = { ...(await exportJWK(project.publicKey)), kid: 'project-key', alg: 'ES256', use: 'sig' };
  fn = await serveFunction('ai-suggest', {
    SUPABASE_URL,
    SUPABASE_JWKS: JSON.stringify({ keys: [jwk] }),
    SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({
      default: process.env.SUPABASE_PUBLISHABLE_KEY ?? env.SUPABASE_PUBLISHABLE_KEY,
    }),
    SUPABASE_SECRET_KEYS: JSON.stringify({ default: process.env.SUPABASE_SECRET_KEY ?? env.SUPABASE_SECRET_KEY }),
    OPENAI_BASE_URL,
    OPENAI_API_KEY: 'sk-simulated-local',
  }, 60);
}, 120_000);

afterAll(async () => {
  await fn?.close();
  await closeAdminSql();
});

describe('asymmetric JWTs through the project JWKS, secret keys only', () => {
  it('accepts a user token signed with the project key (user rate limit applies)', async () => {
    const user = await createUser('jwks');
    const res = await fetch(fn.url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await es256(user.id, signingKey, 'project-key')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ description_projet: `Site vitrine pour un architecte ${marker('jwks')}` }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ success: true });
    expect(res.headers.get('x-ratelimit-limit')).toBe('20');
  }, 60_000);

  it('refuses a token signed with any other key', async () => {
    const res = await fetch(fn.url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await es256(crypto.randomUUID(), strangerKey, 'project-key')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ description_projet: 'Site vitrine' }),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ success: false, error: { code: 'invalid_jwt' } });
  });
});
