// Who is calling. A user session or the legacy anon/service-role keys are JWTs, verified with
// jose: HS256 with the project's JWT secret (the local stack, legacy projects), or the project's
// JWKS for asymmetric signing keys. The new opaque API keys (sb_publishable_… / sb_secret_…)
// come as the bearer and/or the `apikey` header (supabase-js sends the key in both when no user
// is signed in) and are compared with the project's keys (api-keys.ts).
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  type JSONWebKeySet,
  type JWTPayload,
  jwtVerify,
} from 'jose';
import { apiKeyRole, isOpaqueApiKey } from './api-keys.ts';
import { env } from './env.ts';
import { HttpError } from './errors.ts';

export interface Caller {
  role: string;
  userId: string | null;
  claims: JWTPayload & { role?: string; email?: string };
  token: string;
}

type KeySet = ReturnType<typeof createRemoteJWKSet> | ReturnType<typeof createLocalJWKSet>;
let jwks: KeySet | undefined;
let hsKey: Uint8Array | undefined;

function hsSecret(): Uint8Array {
  const secret = env('SUPABASE_JWT_SECRET') ?? env('JWT_SECRET');
  if (!secret) throw new HttpError(401, 'invalid_jwt', 'HS256 tokens are not accepted by this project');
  return (hsKey ??= new TextEncoder().encode(secret));
}

/** SUPABASE_JWKS (the key set a hosted project gives its functions) or the project's JWKS endpoint. */
function projectJwks(): KeySet {
  if (jwks) return jwks;
  const inline = env('SUPABASE_JWKS');
  if (inline) {
    try {
      return (jwks = createLocalJWKSet(JSON.parse(inline) as JSONWebKeySet));
    } catch {
      // A malformed inline set: fall back to the endpoint.
    }
  }
  const url = env('SUPABASE_JWKS_URL') ?? `${env('SUPABASE_URL')}/auth/v1/.well-known/jwks.json`;
  return (jwks = createRemoteJWKSet(new URL(url)));
}

// Verified tokens are remembered until they expire, for at most a minute (a rotated signing key
// takes effect within that): a client sends the same JWT on every call, and verifying it again
// costs more CPU than the rest of a cache hit's JavaScript.
const verified = new Map<string, { claims: Caller['claims']; until: number }>();
const REMEMBER_MS = 60_000;
const REMEMBER_MAX = 10_000;

function remember(token: string, claims: Caller['claims']) {
  if (verified.size >= REMEMBER_MAX) verified.clear();
  const expires = typeof claims.exp === 'number' ? claims.exp * 1000 : Infinity;
  verified.set(token, { claims, until: Math.min(expires, Date.now() + REMEMBER_MS) });
}

function bearer(req: Request): string {
  const header = req.headers.get('authorization') ?? '';
  const m = /^bearer\s+(.+)$/i.exec(header.trim());
  return m ? m[1].trim() : '';
}

function fromApiKey(key: string): Caller {
  const role = apiKeyRole(key);
  if (!role) throw new HttpError(401, 'invalid_api_key', 'Unknown or revoked API key');
  return { role, userId: null, claims: { role }, token: key };
}

/** The verified caller, or a 401. Works for API keys (anon/service role, no user) and user sessions. */
export async function verifyCaller(req: Request): Promise<Caller> {
  const token = bearer(req);
  const apikey = req.headers.get('apikey')?.trim() ?? '';
  if (!token) {
    if (apikey && isOpaqueApiKey(apikey)) return fromApiKey(apikey);
    throw new HttpError(401, 'unauthorized', 'Missing bearer token');
  }
  if (isOpaqueApiKey(token)) return fromApiKey(token);
  let claims: Caller['claims'];
  const known = verified.get(token);
  if (known && known.until > Date.now()) {
    claims = known.claims;
  } else {
    try {
      const { alg } = decodeProtectedHeader(token);
      const result = alg === 'HS256'
        ? await jwtVerify(token, hsSecret(), { algorithms: ['HS256'] })
        : await jwtVerify(token, projectJwks());
      claims = result.payload as Caller['claims'];
    } catch (e) {
      if (e instanceof HttpError) throw e;
      throw new HttpError(401, 'invalid_jwt', 'Invalid or expired JWT');
    }
    remember(token, claims);
  }
  const role = typeof claims.role === 'string' ? claims.role : 'anon';
  const userId = role === 'authenticated' && typeof claims.sub === 'string' ? claims.sub : null;
  return { role, userId, claims, token };
}

/** A signed-in user, or a 401. */
export async function requireUser(req: Request): Promise<Caller & { userId: string }> {
  const caller = await verifyCaller(req);
  if (!caller.userId) throw new HttpError(401, 'unauthorized', 'Sign in first: this function needs a user session');
  return caller as Caller & { userId: string };
}
