// ai-suggest (seed 000): from a project description, suggestions for a quote form
// (type_projet, nombre_pages, delai_souhaite, budget) and an explanation. Public pages call
// it with the anon key, signed-in users with their JWT.
//
// The same description (case, spacing and Unicode form aside) is answered once and then
// served from the cache: global scope by default, a company's own scope when a company_id
// is given (members only). Answers are structured output checked against the schema before
// they are returned or cached. Rate limited per user, or per client address for anonymous
// callers, with token buckets kept in Postgres.
import { type Caller, verifyCaller } from '../_shared/auth.ts';
import { readJson } from '../_shared/body.ts';
import {
  type CacheEntry,
  type CacheStatus,
  type CacheTarget,
  guardedLookup,
  leadOrFollow,
  type Lease,
  store,
  STORE_FAILED,
} from '../_shared/cache.ts';
import { type CacheControls, parseCacheControls } from '../_shared/cache-control.ts';
import { CACHE_KEY_VERSION, normalizeDescription } from '../_shared/cache-key.ts';
import { canonicalJson, sha256Hex } from '../_shared/canonical-json.ts';
import { clientAddress } from '../_shared/client-ip.ts';
import { config } from '../_shared/config.ts';
import { preflight } from '../_shared/cors.ts';
import { Deadline } from '../_shared/deadline.ts';
import { errorResponse, HttpError, jsonResponse } from '../_shared/errors.ts';
import { modelClient, upstreamFailure, withinDeadline } from '../_shared/model-client.ts';
import { costUsd } from '../_shared/pricing.ts';
import { rateLimitArgs, rateLimitFromEnv, rateLimitHeaders } from '../_shared/rate-limit.ts';
import { completeStructured, InvalidModelOutputError, type Usage } from '../_shared/structured-output.ts';
import { ServerTiming } from '../_shared/server-timing.ts';
import { serviceClient } from '../_shared/supabase.ts';
import {
  Answer,
  ANSWER_JSON_SCHEMA,
  PROMPT_VERSION,
  repairPrompt,
  SAMPLING,
  SCHEMA_NAME,
  type SuggestAnswer,
  SYSTEM_PROMPT,
  userPrompt,
} from './prompts.ts';
import { Body, MAX_BODY_BYTES } from './schema.ts';

export const CACHE_TYPE = 'suggestions';
/** Signed-in users: one bucket each. */
const USER_LIMIT = rateLimitFromEnv('AI_SUGGEST_RATE', { capacity: 20, refillPerMinute: 20 });
/** Anonymous callers: one bucket per client address, shared by everyone behind it (NAT, offices). */
const ANON_LIMIT = rateLimitFromEnv('AI_SUGGEST_ANON_RATE', { capacity: 60, refillPerMinute: 60 });

/** What a suggestions entry's `cached_result` holds. */
interface SuggestResult extends SuggestAnswer {
  model: string;
  usage: Usage;
}

interface ServeInfo {
  remoteAddr?: { hostname?: string };
}

interface Ctx {
  target: CacheTarget;
  controls: CacheControls;
  useCache: boolean;
  headers: Record<string, string>;
  deadline: Deadline;
  timing: ServerTiming;
}

/** Deno.serve passes the connection info second: used only with AI_SUGGEST_TRUSTED_PROXY_HOPS=0. */
export const handler = (req: Request, info?: ServeInfo): Promise<Response> | Response =>
  req.method === 'OPTIONS' ? preflight() : suggest(req, info).catch((err) => errorResponse(err, { success: false }));

/** The rate-limit bucket of a caller, or null for the service role (trusted backends). */
export function bucketFor(caller: Pick<Caller, 'role' | 'userId'>, req: Request, info?: ServeInfo): string | null {
  if (caller.role === 'service_role') return null;
  if (caller.userId) return `ai-suggest:user:${caller.userId}`;
  const address = clientAddress(req.headers, config().trustedProxyHops, info?.remoteAddr?.hostname ?? null);
  return `ai-suggest:ip:${address ?? 'unknown'}`;
}

/** The cache key: sha256 of the canonical request (scope, model, prompt version, normalized description). */
export async function suggestCacheKey(description: string, scope: string, model: string) {
  const canonical = {
    v: CACHE_KEY_VERSION,
    cache_type: CACHE_TYPE,
    scope,
    model: model.trim().toLowerCase(),
    prompt_version: PROMPT_VERSION,
    temperature: SAMPLING.temperature,
    max_completion_tokens: SAMPLING.maxCompletionTokens,
    description: normalizeDescription(description),
  };
  return { key: await sha256Hex(canonicalJson(canonical)), canonical };
}

async function suggest(req: Request, info?: ServeInfo): Promise<Response> {
  const timing = new ServerTiming();
  const deadline = new Deadline();
  const caller = await verifyCaller(req);
  const controls = parseCacheControls(req.headers);
  const body = await readJson(req, Body, MAX_BODY_BYTES);
  timing.mark('auth');
  const companyId = body.company_id ?? null;
  if (companyId && !caller.userId && caller.role !== 'service_role') {
    throw new HttpError(401, 'unauthorized', 'Sign in first: a company_id needs a user session');
  }
  const db = serviceClient();

  const bucket = bucketFor(caller, req, info);
  const limit = caller.userId ? USER_LIMIT : ANON_LIMIT;
  const model = config().suggestModel;
  const description = body.description_projet;
  const { key, canonical } = await suggestCacheKey(description, companyId ?? 'global', model);
  timing.mark('key');
  const useCache = !controls.noCache && !controls.noStore;
  const target: CacheTarget = {
    companyId,
    key,
    type: CACHE_TYPE,
    maxAgeSeconds: controls.maxAge,
    leaseOwner: controls.onlyIfCached ? null : crypto.randomUUID(),
    leaseMs: config().leaseMs,
  };
  // Rate limit, membership and lookup in one round trip; a refusal of the limiter wins (429 before 403).
  const { rate, found } = await guardedLookup<SuggestResult>(db, companyId, {
    rateLimit: bucket ? rateLimitArgs(bucket, limit) : null,
    memberUserId: companyId && caller.userId ? caller.userId : null,
  }, useCache || controls.onlyIfCached ? target : null);
  timing.mark('db');
  const ctx: Ctx = { target, controls, useCache, headers: rate ? rateLimitHeaders(rate) : {}, deadline, timing };

  if (found?.status === 'hit') return fromEntry(ctx, found, 'HIT');
  if (controls.onlyIfCached) {
    throw new HttpError(504, 'not_cached', 'No cached answer for this request (Cache-Control: only-if-cached)', {
      ...ctx.headers,
      'x-cache': 'MISS',
    });
  }
  const next = await leadOrFollow<SuggestResult>(db, ctx.target, found, deadline, ctx.headers);
  if ('entry' in next) return fromEntry(ctx, next.entry, next.status);
  const stale = found?.status === 'miss' ? found.stale : null;
  try {
    return await fromModel(ctx, next.lease, description, model, canonical, stale);
  } finally {
    await next.lease.settle();
  }
}

function respond(
  ctx: Ctx,
  answer: SuggestAnswer,
  fromCache: boolean,
  status: CacheStatus,
  ageSeconds: number,
  extraHeaders: Record<string, string> = {},
): Response {
  return jsonResponse(
    {
      success: true,
      // Rebuilt in a fixed order: a cached result comes back from jsonb with its keys sorted.
      suggestions: {
        type_projet: answer.suggestions.type_projet,
        nombre_pages: answer.suggestions.nombre_pages,
        delai_souhaite: answer.suggestions.delai_souhaite,
        budget: answer.suggestions.budget,
      },
      explication: answer.explication,
      from_cache: fromCache,
    },
    200,
    {
      ...ctx.headers,
      'x-cache': status,
      age: String(Math.max(0, Math.floor(ageSeconds))),
      ...ctx.timing.header(),
      ...extraHeaders,
    },
  );
}

function fromEntry(ctx: Ctx, entry: CacheEntry<SuggestResult>, status: CacheStatus): Response {
  return respond(ctx, entry.cached_result, true, status, entry.age_seconds);
}

async function fromModel(
  ctx: Ctx,
  lease: Lease,
  description: string,
  model: string,
  canonical: Record<string, unknown>,
  stale: CacheEntry<SuggestResult> | null,
): Promise<Response> {
  let result;
  try {
    result = await withinDeadline(ctx.deadline, (opts) =>
      completeStructured(modelClient(), {
        model,
        messages: [
          { role: 'system', content: SYSTEM_PROMPT },
          { role: 'user', content: userPrompt(description) },
        ],
        schemaName: SCHEMA_NAME,
        jsonSchema: ANSWER_JSON_SCHEMA,
        validator: Answer,
        repairPrompt: (problem) => repairPrompt(description, problem),
        temperature: SAMPLING.temperature,
        maxCompletionTokens: SAMPLING.maxCompletionTokens,
      }, opts));
  } catch (err) {
    // Nothing is cached: give the lease back (counted as an upstream error), then STALE or a 5xx.
    await lease.release(true);
    if (stale && !ctx.controls.noStore) return fromEntry(ctx, stale, 'STALE');
    const cacheHeader = { 'x-cache': ctx.useCache ? 'MISS' : 'BYPASS' };
    if (err instanceof InvalidModelOutputError) {
      console.error('ai-suggest: invalid model output:', err.problems.join(' | '));
      throw new HttpError(
        502,
        'invalid_model_output',
        'The model did not produce a valid suggestion; nothing was cached. Try again.',
        {
          ...ctx.headers,
          ...cacheHeader,
        },
      );
    }
    const f = upstreamFailure(err);
    throw new HttpError(f.status, f.code, f.message, {
      ...ctx.headers,
      ...cacheHeader,
      ...(f.retryAfter ? { 'retry-after': f.retryAfter } : {}),
    });
  }

  ctx.timing.mark('model');
  const status: CacheStatus = ctx.useCache ? 'MISS' : 'BYPASS';
  const spend = {
    promptTokens: result.usage.prompt_tokens,
    completionTokens: result.usage.completion_tokens,
    costUsd: costUsd(model, result.usage.prompt_tokens, result.usage.completion_tokens),
  };
  if (ctx.controls.noStore) {
    // Not kept, but paid: counted as an upstream call (within AI_CACHE_STORE_WAIT_MS, else after the answer).
    await lease.recordWithin('ai-suggest: cache_record_spend', spend, config().storeWaitMs);
    return respond(ctx, result.value, false, status, 0);
  }
  const stored: SuggestResult = { ...result.value, model: result.model, usage: result.usage };
  // The caller is not promised durability: a slow store finishes after the answer is sent.
  const outcome = await lease.storeWithin(
    'ai-suggest: cache_store',
    () =>
      store(serviceClient(), ctx.target, {
        model,
        request: config().storePrompts ? canonical : null,
        result: stored,
        ...spend,
        ttlSeconds: ctx.controls.ttlSeconds ?? config().suggestTtlSeconds,
        keyVersion: CACHE_KEY_VERSION,
      }),
    spend,
    config().storeWaitMs,
  );
  return respond(ctx, result.value, false, status, 0, outcome === 'failed' ? STORE_FAILED : {});
}
