// Who calls the gateway and for which scope: a signed-in user (the SDK's apiKey is their access
// token) with X-Company-Id, or the service role with X-Company-Id or the global scope.
// Membership is checked in the database, in the same round trip as the first cache access.
import { verifyCaller } from '../_shared/auth.ts';
import { HttpError } from '../_shared/errors.ts';

export interface GatewayCaller {
  /** The signed-in user, or null for the service role. */
  userId: string | null;
  /** X-Company-Id; null only for the service role's global scope. */
  companyId: string | null;
  cacheType: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CACHE_TYPE = /^[a-z][a-z0-9_]{0,62}$/;

/** Any verified non-anonymous caller (GET /v1/models needs no scope). */
export async function requireCaller(req: Request): Promise<{ role: string; userId: string | null }> {
  const caller = await verifyCaller(req);
  if (caller.role !== 'service_role' && !caller.userId) {
    throw new HttpError(
      401,
      'invalid_api_key',
      "Use a signed-in user's access token (or the service role key) as the API key",
    );
  }
  return caller;
}

export async function resolveCaller(req: Request, defaultCacheType: string): Promise<GatewayCaller> {
  const caller = await requireCaller(req);
  const rawCompany = req.headers.get('x-company-id')?.trim() || null;
  if (!rawCompany && caller.role !== 'service_role') {
    throw new HttpError(400, 'missing_company_id', 'X-Company-Id is required: name the company this call is for');
  }
  if (rawCompany && !UUID.test(rawCompany)) {
    throw new HttpError(400, 'invalid_company_id', 'X-Company-Id must be a UUID');
  }
  const cacheType = req.headers.get('x-cache-type')?.trim() || defaultCacheType;
  if (!CACHE_TYPE.test(cacheType)) {
    throw new HttpError(
      400,
      'invalid_cache_type',
      'X-Cache-Type must be lower-case letters, digits and _ (starting with a letter, at most 63)',
    );
  }
  return {
    userId: caller.role === 'service_role' ? null : caller.userId,
    companyId: rawCompany?.toLowerCase() ?? null,
    cacheType,
  };
}
