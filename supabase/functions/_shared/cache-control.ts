// The per-request cache controls of RFC 9111 that make sense for model calls, plus a TTL override.
import { HttpError } from './errors.ts';

export interface CacheControls {
  /** Skip the lookup, still store the fresh answer (`no-cache`). */
  noCache: boolean;
  /** Neither read nor write (`no-store`). */
  noStore: boolean;
  /** Accept only entries younger than this many seconds (`max-age=N`). */
  maxAge: number | null;
  /** Answer from the cache or 504, never call the model (`only-if-cached`). */
  onlyIfCached: boolean;
  /** Lifetime of a stored entry in seconds (`X-Cache-TTL: N`), null for the default. */
  ttlSeconds: number | null;
}

const MAX_TTL_SECONDS = 365 * 24 * 3600;

export function parseCacheControls(headers: Headers): CacheControls {
  const out: CacheControls = { noCache: false, noStore: false, maxAge: null, onlyIfCached: false, ttlSeconds: null };
  for (const part of (headers.get('cache-control') ?? '').split(',')) {
    const [rawName, rawValue] = part.trim().split('=', 2);
    const name = rawName.toLowerCase();
    if (name === 'no-cache') out.noCache = true;
    else if (name === 'no-store') out.noStore = true;
    else if (name === 'only-if-cached') out.onlyIfCached = true;
    else if (name === 'max-age') {
      const n = Number(rawValue?.replace(/"/g, ''));
      if (!Number.isInteger(n) || n < 0) {
        throw new HttpError(400, 'invalid_cache_control', 'max-age must be a whole number of seconds');
      }
      out.maxAge = n;
    }
  }
  const ttl = headers.get('x-cache-ttl');
  if (ttl !== null) {
    const n = Number(ttl);
    if (!Number.isInteger(n) || n <= 0 || n > MAX_TTL_SECONDS) {
      throw new HttpError(
        400,
        'invalid_cache_ttl',
        `X-Cache-TTL must be a whole number of seconds between 1 and ${MAX_TTL_SECONDS}`,
      );
    }
    out.ttlSeconds = n;
  }
  return out;
}
