// ai-chat: a user's message in a conversation, answered from the company's cache when the same
// question (same model, prompt and history) was answered before, else by the model.
// One round trip to the database on a hit; the conversation is kept either way, each turn
// stored with its answer (a failed turn leaves nothing behind). `Idempotency-Key` makes a
// retried turn replay the stored one.
import { z } from 'zod';
import { requireUser } from '../_shared/auth.ts';
import { readJson } from '../_shared/body.ts';
import { type CacheTarget, leadOrFollow, lookupArgs, type LookupResult } from '../_shared/cache.ts';
import { parseCacheControls } from '../_shared/cache-control.ts';
import { chatCacheKey } from '../_shared/cache-key.ts';
import { config } from '../_shared/config.ts';
import { preflight } from '../_shared/cors.ts';
import { Deadline } from '../_shared/deadline.ts';
import { HttpError, withErrors } from '../_shared/errors.ts';
import { DEFAULT_MODEL } from '../_shared/model-client.ts';
import { callRpc } from '../_shared/rpc.ts';
import { ServerTiming } from '../_shared/server-timing.ts';
import { serviceClient } from '../_shared/supabase.ts';
import { userText } from '../_shared/text.ts';
import { type IdempotencyArgs, idempotencyFrom, releaseClaim } from './idempotency.ts';
import { CONTEXT_TYPES, type ContextType, SYSTEM_PROMPTS, SYSTEM_PROMPTS_VERSION } from './prompts.ts';
import { streamFromModel } from './stream.ts';
import {
  answerFromEntry,
  answerFromModel,
  type ChatMessage,
  type ChatResult,
  replayTurn,
  type StoredTurn,
  type Turn,
} from './turn.ts';

/** How long an Idempotency-Key claim blocks duplicates if its request dies: the platform's 150 s request limit. */
const CLAIM_MS = 150_000;

/** The body's schema, built once from the validated configuration (message length bound). */
let bodySchema: ReturnType<typeof buildBody> | undefined;
function buildBody() {
  const maxChars = config().chatMaxMessageChars;
  return z.strictObject({
    company_id: z.guid(),
    conversation_id: z.guid().nullish(),
    message: userText().trim().min(1, 'must not be empty').max(maxChars, `must be at most ${maxChars} characters`),
    context_type: z.enum(CONTEXT_TYPES).optional(),
    model: z.string().optional(),
    stream: z.boolean().optional(),
  });
}

export const handler = (req: Request): Promise<Response> | Response =>
  req.method === 'OPTIONS' ? preflight() : withErrors(chat)(req);

async function chat(req: Request): Promise<Response> {
  const timing = new ServerTiming();
  const deadline = new Deadline();
  const caller = await requireUser(req);
  const controls = parseCacheControls(req.headers);
  const body = await readJson(req, bodySchema ??= buildBody(), config().chatMaxBodyBytes);
  timing.mark('auth');
  const model = body.model ?? DEFAULT_MODEL();
  const allowed = config().allowedModels;
  if (!allowed.includes(model)) {
    throw new HttpError(400, 'invalid_request', `model: must be one of ${allowed.join(', ')}`);
  }
  const wantsStream = body.stream ?? (req.headers.get('accept') ?? '').includes('text/event-stream');
  const idempotency = await idempotencyFrom(req.headers, { ...body, model }, CLAIM_MS);
  const db = serviceClient();

  // The request's key covers everything but the conversation's history, which chat_turn
  // reads and folds into the turn's key (private.chat_turn_key) in the same round trip.
  const { key: requestKey, canonical } = await chatCacheKey({
    cacheType: 'chat',
    scope: body.company_id,
    model,
    messages: [{ role: 'user', content: body.message }],
    systemPromptVersion: SYSTEM_PROMPTS_VERSION,
  });
  timing.mark('key');
  const useCache = !controls.noCache && !controls.noStore;
  const lookupTarget: CacheTarget = {
    companyId: body.company_id,
    key: requestKey,
    type: 'chat',
    maxAgeSeconds: controls.maxAge,
    leaseOwner: controls.onlyIfCached ? null : crypto.randomUUID(),
    leaseMs: config().leaseMs,
  };

  const started = await startTurn({
    p_user_id: caller.userId,
    p_company_id: body.company_id,
    p_conversation_id: body.conversation_id ?? null,
    p_context_type: body.context_type ?? 'general',
    p_message: body.message,
    p_cache: useCache || controls.onlyIfCached ? lookupArgs(lookupTarget) : null,
    p_idempotency: idempotency,
    p_request_key: requestKey,
    p_history_limit: config().chatHistoryLimit,
  });
  timing.mark('db');
  const contextType = started.context_type;
  const history = started.history ?? [];
  const messages: ChatMessage[] = [
    { role: 'system', content: SYSTEM_PROMPTS[contextType].text },
    ...history,
    { role: 'user', content: body.message },
  ];
  const target: CacheTarget = { ...lookupTarget, key: started.cache_key ?? requestKey };
  const turn: Turn = {
    userId: caller.userId,
    companyId: body.company_id,
    conversationId: started.conversation_id,
    contextType,
    userMessage: body.message,
    idempotency,
    model,
    messages,
    canonical,
    target,
    controls,
    useCache,
    timing,
    deadline,
  };
  if (started.idempotency === 'replay') return replayTurn(turn, started.replay!, wantsStream);
  const lookup = started.lookup;

  if (lookup?.status === 'hit') return answerFromEntry(turn, lookup, 'HIT', started.assistant_message_id!, wantsStream);
  if (controls.onlyIfCached) {
    // chat_turn wrote nothing for this miss: no conversation, no message, no key.
    throw new HttpError(504, 'not_cached', 'No cached answer for this request (Cache-Control: only-if-cached)', {
      'x-cache': 'MISS',
    });
  }
  try {
    const next = await leadOrFollow<ChatResult>(db, target, lookup, deadline, {
      'x-conversation-id': turn.conversationId,
    });
    if ('entry' in next) return await answerFromEntry(turn, next.entry, next.status, null, wantsStream);
    const stale = lookup?.status === 'miss' ? lookup.stale : null;
    // streamFromModel settles the lease itself, when its stream ends.
    if (wantsStream) return await streamFromModel(turn, next.lease, stale);
    try {
      return await answerFromModel(turn, next.lease, stale);
    } finally {
      await next.lease.settle();
    }
  } catch (err) {
    // No answer stored: a retry with the same Idempotency-Key must run again, not wait.
    await releaseClaim(db, turn.userId, turn.companyId, idempotency);
    throw err;
  }
}

interface StartedTurn {
  conversation_id: string;
  context_type: ContextType;
  /** The turn's key (request key + context + history window); null only for a replay. */
  cache_key: string | null;
  /** The history window the key covers, oldest first; null when answered from the cache. */
  history: ChatMessage[] | null;
  lookup: LookupResult<ChatResult> | null;
  assistant_message_id: string | null;
  idempotency: 'claimed' | 'replay' | 'in_progress' | 'mismatch' | null;
  replay: StoredTurn | null;
}

/**
 * chat_turn, waiting while an identical request holding the same Idempotency-Key is still
 * being answered (it then replays that turn, or runs itself if that request failed).
 */
async function startTurn(
  args: Record<string, unknown> & { p_idempotency: IdempotencyArgs | null },
): Promise<StartedTurn> {
  const db = serviceClient();
  const end = Date.now() + config().leaseMs + 5_000;
  for (let delay = 10;; delay = Math.min(Math.ceil(delay * 1.6), 250)) {
    const started = await callRpc<StartedTurn>(db, 'chat_turn', args);
    if (started.idempotency === 'mismatch') {
      throw new HttpError(422, 'idempotency_key_reused', 'This Idempotency-Key was used for a different request');
    }
    if (started.idempotency !== 'in_progress') return started;
    if (Date.now() + delay > end) {
      throw new HttpError(
        409,
        'idempotency_in_progress',
        'A request with this Idempotency-Key is still being answered; retry shortly',
        {
          'retry-after': '5',
        },
      );
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}
