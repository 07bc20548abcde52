// Authentication as Supabase's Kong + PostgREST pair does it: Kong refuses requests without a
// valid `apikey`; PostgREST then takes the role from `Authorization: Bearer` (or the apikey when
// no bearer is sent) and verifies that JWT. The new opaque keys (sb_publishable_…, sb_secret_…)
// are not JWTs: the gateway maps a known one to its role (anon, service_role), whether it comes
// as the apikey or as the bearer (supabase-js sends it as both when nobody is signed in).
import type { IncomingHttpHeaders } from 'node:http';
import { errors as joseErrors, jwtVerify } from 'jose';
import { GatewayError, jwtClaimsError, jwtDecodeError, RestError } from './errors.ts';

export type Claims = Record<string, unknown>;
export interface AuthResult {
  role: string;
  claims: Claims;
}

/** PostgREST tolerates this much clock skew on exp/nbf/iat. */
const SKEW_SECONDS = 30;
/** Verified tokens are remembered (PostgREST's jwt cache): the hot path then skips HMAC work. */
const CACHE_LIMIT = 1000;

interface CachedToken {
  claims: Claims;
  exp: number | undefined;
}

export interface OpaqueKeys {
  publishable: string[];
  secret: string[];
}

const isOpaque = (key: string) => key.startsWith('sb_publishable_') || key.startsWith('sb_secret_');

export function createAuthenticator(
  secret: string,
  anonRole = 'anon',
  opaque: OpaqueKeys = { publishable: [], secret: [] },
) {
  const opaqueRole = (key: string): string | null =>
    opaque.secret.includes(key) ? 'service_role' : opaque.publishable.includes(key) ? anonRole : null;
  const invalidKey = () =>
    new GatewayError(401, 'Invalid API key', 'Double check your Supabase `anon` or `service_role` API key.');
  const key = new TextEncoder().encode(secret);
  const tokenCache = new Map<string, CachedToken>();
  const validApiKeys = new Set<string>();

  async function verify(token: string): Promise<Claims> {
    const now = Math.floor(Date.now() / 1000);
    const hit = tokenCache.get(token);
    if (hit) {
      if (hit.exp === undefined || now - SKEW_SECONDS < hit.exp) return hit.claims;
      tokenCache.delete(token);
      throw jwtClaimsError('JWT expired');
    }
    const parts = token.split('.');
    if (parts.length !== 3) throw jwtDecodeError(`Expected 3 parts in JWT; got ${parts.length}`);
    let claims: Claims;
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: ['HS256', 'HS384', 'HS512'],
        clockTolerance: SKEW_SECONDS,
      });
      claims = payload as Claims;
    } catch (e) {
      throw mapJoseError(e);
    }
    if (typeof claims.iat === 'number' && claims.iat > now + SKEW_SECONDS) throw jwtClaimsError('JWT issued at future');
    if (tokenCache.size >= CACHE_LIMIT) tokenCache.delete(tokenCache.keys().next().value as string);
    tokenCache.set(token, { claims, exp: typeof claims.exp === 'number' ? claims.exp : undefined });
    return claims;
  }

  /** Kong's key-auth compares the key itself; expiry is PostgREST's concern, so only the signature counts here. */
  async function checkApiKey(apikey: string | undefined): Promise<void> {
    if (!apikey) {
      throw new GatewayError(401, 'No API key found in request', 'No `apikey` request header or url param was found.');
    }
    if (validApiKeys.has(apikey)) return;
    if (isOpaque(apikey)) {
      if (opaqueRole(apikey)) return;
      throw invalidKey();
    }
    try {
      await jwtVerify(apikey, key, { algorithms: ['HS256', 'HS384', 'HS512'] });
    } catch (e) {
      // Claim checks run only after the signature verified, so such a key is genuine.
      if (!(e instanceof joseErrors.JWTClaimValidationFailed || e instanceof joseErrors.JWTExpired)) {
        throw invalidKey();
      }
    }
    if (validApiKeys.size < CACHE_LIMIT) validApiKeys.add(apikey);
  }

  return async function authenticate(headers: IncomingHttpHeaders, queryApiKey: string | null): Promise<AuthResult> {
    const apikey = (headers.apikey as string | undefined) ?? queryApiKey ?? undefined;
    await checkApiKey(apikey);
    const authorization = headers.authorization;
    let token = apikey as string;
    if (authorization !== undefined) {
      const m = /^bearer(?:\s+(.*))?$/i.exec(authorization.trim());
      if (m) {
        token = (m[1] ?? '').trim();
        if (token === '') throw jwtDecodeError('Empty JWT is sent in Authorization header');
      }
    }
    if (isOpaque(token)) {
      const role = opaqueRole(token);
      if (!role) throw invalidKey();
      return { role, claims: { role } };
    }
    const claims = await verify(token);
    const role = typeof claims.role === 'string' && claims.role !== '' ? claims.role : anonRole;
    return { role, claims };
  };
}

function mapJoseError(e: unknown): RestError {
  if (e instanceof joseErrors.JWTExpired) return jwtClaimsError('JWT expired');
  if (e instanceof joseErrors.JWTClaimValidationFailed) {
    if (e.claim === 'nbf') return jwtClaimsError('JWT not yet valid');
    if (e.claim === 'exp') return jwtClaimsError("The JWT 'exp' claim must be a number");
    if (e.claim === 'iat') return jwtClaimsError("The JWT 'iat' claim must be a number");
    return jwtClaimsError('Parsing claims failed');
  }
  if (e instanceof joseErrors.JOSEAlgNotAllowed || e instanceof joseErrors.JOSENotSupported) {
    return jwtDecodeError('Wrong or unsupported encoding algorithm');
  }
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) {
    return jwtDecodeError('No suitable key or wrong key type', 'None of the keys was able to decode the JWT');
  }
  if (e instanceof joseErrors.JWTInvalid) return jwtClaimsError('Parsing claims failed');
  return jwtDecodeError("JWT couldn't be decoded");
}
