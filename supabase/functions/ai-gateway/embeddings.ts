// POST /v1/embeddings: every input item is its own cache entry (model, dimensions,
// encoding_format, the item). A batch mixing cached and new items sends only the new ones
// upstream and answers every vector at the index it was asked at; `usage` counts only the
// tokens sent upstream. X-Cache: HIT (all cached), MISS (none), PARTIAL, BYPASS or STALE.
// One round trip reads every item (with the membership check), one stores the new ones.
// No single-flight lease (a batch is cheap to repeat), but the rest of the shared protocol:
// the upstream call runs inside the request's Deadline, and every token sent upstream is
// accounted for: stored with its entry, or, when its vector is not kept (no-store, a disabled
// policy, a failed store), recorded as an uncached upstream call (Lease.unstored, with no
// lease held); a failed store still answers the vectors, flagged X-Cache-Warning: store-failed.
import { z } from 'zod';
import { readJson } from '../_shared/body.ts';
import { Lease, STORE_FAILED } from '../_shared/cache.ts';
import { type CacheControls, parseCacheControls } from '../_shared/cache-control.ts';
import { canonicalJson } from '../_shared/canonical-json.ts';
import { config } from '../_shared/config.ts';
import { corsHeaders } from '../_shared/cors.ts';
import { Deadline } from '../_shared/deadline.ts';
import { costUsd } from '../_shared/pricing.ts';
import { serviceClient } from '../_shared/supabase.ts';
import { storableJson } from '../_shared/text.ts';
import {
  cacheUse,
  gatewayLookupMany,
  type ItemLookup,
  type Policy,
  type StoreItem,
  storeMany,
} from './cache-adapter.ts';
import type { GatewayCaller } from './caller.ts';
import { embeddingKeys } from './keys.ts';
import { assertModelAllowed } from './models.ts';
import { invalidParam, OpenAIError } from './openai-errors.ts';
import { postRaw, upstreamError } from './upstream.ts';

const TokenArray = z.array(z.number().int().min(0)).min(1);
const EmbeddingsBody = z.looseObject({
  model: z.string().min(1, 'you must provide a model parameter'),
  input: z.union([z.string(), z.array(z.string()).min(1), TokenArray, z.array(TokenArray).min(1)]),
  dimensions: z.number().int().min(1).nullish(),
  encoding_format: z.enum(['float', 'base64']).nullish(),
  user: z.string().nullish(),
});
type EmbeddingsBody = z.infer<typeof EmbeddingsBody>;

type Item = string | number[];
/** What an embedding entry's `cached_result` holds: the vector as the upstream encoded it. */
interface StoredEmbedding {
  embedding: number[] | string;
}

/** The request's items, and whether they were sent as one item (a string or one token array). */
function itemsOf(input: EmbeddingsBody['input']): Item[] {
  if (typeof input === 'string') return [input];
  if (input.length > 0 && typeof input[0] === 'number') return [input as number[]];
  return input as Item[];
}

function parse(raw: unknown): EmbeddingsBody {
  const parsed = EmbeddingsBody.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue.path.length ? String(issue.path[0]) : null;
    const message = param === 'input'
      ? "'input' must be a string, an array of strings, a token array or an array of token arrays"
      : `${param ?? 'body'}: ${issue.message}`;
    throw new OpenAIError(400, { message, type: 'invalid_request_error', param, code: null });
  }
  return parsed.data;
}

export async function embeddings(req: Request, caller: GatewayCaller): Promise<Response> {
  const deadline = new Deadline();
  const controls = parseCacheControls(req.headers);
  // Caller text is made storable (_shared/text.ts) before the keys, the database or the model see it.
  const body = parse(storableJson(await readJson(req, z.unknown(), config().gatewayMaxBodyBytes)));
  assertModelAllowed(body.model);
  const items = itemsOf(body.input);
  const maxItems = config().gatewayMaxEmbeddingItems;
  if (items.length > maxItems) throw invalidParam('input', `'input' must have at most ${maxItems} items`);
  if (items.some((i) => i === '')) throw invalidParam('input', "'input' items must not be empty strings");
  const encodingFormat = body.encoding_format ?? 'float';

  // Identical items in one batch are one entry and at most one upstream item.
  const uniqueIds = new Map<string, number>();
  const slotOf = items.map((item) => {
    const id = canonicalJson(item);
    if (!uniqueIds.has(id)) uniqueIds.set(id, uniqueIds.size);
    return uniqueIds.get(id)!;
  });
  const unique: Item[] = [];
  slotOf.forEach((slot, i) => (unique[slot] ??= items[i]));
  const keyed = await Promise.all(
    unique.map((item) =>
      embeddingKeys(
        { model: body.model, dimensions: body.dimensions ?? null, encodingFormat, item },
        caller.cacheType,
        caller.companyId,
      )
    ),
  );

  const db = serviceClient();
  const { policy, items: found } = await gatewayLookupMany<StoredEmbedding>(
    db,
    caller,
    keyed.map((k) => k.keys),
    controls,
  );
  const use = cacheUse(policy, controls);
  const vectors: Array<number[] | string | undefined> = unique.map((_, slot) => {
    const f = found?.[slot];
    return f?.status === 'hit' ? f.cached_result.embedding : undefined;
  });
  const missing = unique.map((_, slot) => slot).filter((slot) => vectors[slot] === undefined);
  const cachedModel = found?.find((f) => f.status === 'hit')?.model;

  if (missing.length > 0 && controls.onlyIfCached) {
    throw new OpenAIError(504, {
      message: 'Not every input is cached (Cache-Control: only-if-cached)',
      type: 'invalid_request_error',
      param: null,
      code: 'not_cached',
    }, { 'x-cache': missing.length === unique.length ? 'MISS' : 'PARTIAL' });
  }

  let usage = { prompt_tokens: 0, total_tokens: 0 };
  let model = cachedModel ?? body.model;
  let status = !use.read
    ? 'BYPASS'
    : missing.length === 0
    ? 'HIT'
    : missing.length === unique.length
    ? 'MISS'
    : 'PARTIAL';
  let age = 0;
  let warning: Record<string, string> = {};
  if (missing.length > 0) {
    // The batch's part in the shared protocol: no lease held, one owner of its spend and errors.
    const lease = new Lease(
      db,
      {
        companyId: policy.company_id,
        key: policy.company_id === null ? keyed[missing[0]].keys.global : keyed[missing[0]].keys.company,
        type: policy.cache_type,
        maxAgeSeconds: controls.maxAge,
        leaseOwner: null,
        leaseMs: config().leaseMs,
      },
      false,
      deadline,
    );
    try {
      const answer = await fromModel(body, encodingFormat, missing.map((slot) => unique[slot]), deadline).catch(
        async (err) => {
          await lease.release(true);
          const stale = staleVectors(found, missing, use.read);
          if (!stale) {
            const e = upstreamError(err);
            throw new OpenAIError(e.status, e.body, { ...e.headers, 'x-cache': status });
          }
          return stale;
        },
      );
      if (answer instanceof Map) {
        missing.forEach((slot) => (vectors[slot] = answer.get(slot)!.cached_result.embedding));
        age = Math.max(...[...answer.values()].map((s) => s.age_seconds));
        status = 'STALE';
      } else {
        missing.forEach((slot, i) => (vectors[slot] = answer.vectors[i]));
        usage = answer.usage;
        model = answer.model;
        warning = await keep(
          lease,
          policy,
          use.write,
          use.ttlSeconds,
          answer,
          missing.map((slot) => ({ item: unique[slot], key: keyed[slot] })),
        );
      }
    } finally {
      await lease.settle();
    }
  }
  if (status === 'HIT') age = Math.max(0, ...(found ?? []).map((f) => (f.status === 'hit' ? f.age_seconds : 0)));

  return new Response(
    JSON.stringify({
      object: 'list',
      data: slotOf.map((slot, index) => ({ object: 'embedding', index, embedding: vectors[slot] })),
      model,
      usage,
    }),
    {
      status: 200,
      headers: {
        ...corsHeaders,
        'content-type': 'application/json',
        'x-cache': status,
        age: String(Math.floor(age)),
        ...warning,
      },
    },
  );
}

interface UpstreamEmbeddings {
  vectors: Array<number[] | string>;
  usage: { prompt_tokens: number; total_tokens: number };
  model: string;
}

/** Asks the model for the missing items only; the encoding is always explicit, so what is cached is what was asked. */
async function fromModel(
  body: EmbeddingsBody,
  encodingFormat: string,
  items: Item[],
  deadline: Deadline,
): Promise<UpstreamEmbeddings> {
  const { input: _input, encoding_format: _format, ...rest } = body;
  const sent = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== null && v !== undefined));
  const single = items.length === 1 && typeof body.input === 'string';
  const { json } = await postRaw('/embeddings', {
    ...sent,
    input: single ? items[0] : items,
    encoding_format: encodingFormat,
  }, deadline);
  const data = (json.data as Array<{ index: number; embedding: number[] | string }> | undefined) ?? [];
  const vectors: Array<number[] | string> = [];
  for (const d of data) vectors[d.index] = d.embedding;
  if (vectors.length !== items.length || vectors.some((v) => v === undefined)) {
    throw new OpenAIError(502, {
      message: 'The model provider answered a different number of embeddings',
      type: 'server_error',
      param: null,
      code: 'model_unavailable',
    });
  }
  const u = (json.usage ?? {}) as { prompt_tokens?: number; total_tokens?: number };
  return {
    vectors,
    usage: { prompt_tokens: u.prompt_tokens ?? 0, total_tokens: u.total_tokens ?? u.prompt_tokens ?? 0 },
    model: typeof json.model === 'string' ? json.model : body.model,
  };
}

/** The batch's tokens spread over its items by size: what each entry is worth when it is hit later. */
function shareTokens(total: number, items: Item[]): number[] {
  const sizes = items.map((i) => Math.max(1, i.length));
  const sum = sizes.reduce((a, b) => a + b, 0);
  const shares = sizes.map((s) => Math.floor((total * s) / sum));
  shares[0] += total - shares.reduce((a, b) => a + b, 0);
  return shares;
}

/**
 * Stores the new vectors (when the cache may be written) and ends the batch's lease: stored,
 * or its spend recorded as an uncached upstream call. Returns the headers that flag a failed store.
 */
async function keep(
  lease: Lease,
  policy: Policy,
  write: boolean,
  ttlSeconds: number,
  answer: UpstreamEmbeddings,
  fresh: Array<{ item: Item; key: { keys: { company: string; global: string }; canonical: Record<string, unknown> } }>,
): Promise<Record<string, string>> {
  const spend = {
    promptTokens: answer.usage.prompt_tokens,
    completionTokens: 0,
    costUsd: costUsd(answer.model, answer.usage.prompt_tokens, 0),
  };
  if (!write) {
    await lease.unstored(spend);
    return {};
  }
  const tokens = shareTokens(answer.usage.prompt_tokens, fresh.map((f) => f.item));
  const rows: StoreItem[] = fresh.map((f, i) => ({
    cache_key: policy.company_id === null ? f.key.keys.global : f.key.keys.company,
    request: config().storePrompts ? f.key.canonical : null,
    result: { embedding: answer.vectors[i] } satisfies StoredEmbedding,
    prompt_tokens: tokens[i],
    completion_tokens: 0,
    cost_usd: costUsd(answer.model, tokens[i], 0),
  }));
  try {
    await storeMany(serviceClient(), policy, answer.model, rows, ttlSeconds);
    lease.stored();
    return {};
  } catch (err) {
    // The vectors are good and paid for: the caller gets them, flagged; their cost is still counted.
    console.error('ai-gateway: cache_store_many failed:', err);
    await lease.unstored(spend);
    return STORE_FAILED;
  }
}

/** Stale-if-error: every missing item must have an expired entry to serve, else the error stands. */
function staleVectors(found: ItemLookup<StoredEmbedding>[] | null, missing: number[], read: boolean) {
  if (!found || !read) return null;
  const out = new Map<number, NonNullable<Extract<ItemLookup<StoredEmbedding>, { status: 'miss' }>['stale']>>();
  for (const slot of missing) {
    const f = found[slot];
    if (f?.status !== 'miss' || !f.stale) return null;
    out.set(slot, f.stale);
  }
  return out;
}

export type { CacheControls };
