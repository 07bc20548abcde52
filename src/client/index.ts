// Typed client for frontends, on top of the app's own supabase-js client (whose session, or
// anon key, authenticates every call):
//
//   const ai = createAiCacheClient(supabase);
//   const reply = await ai.chat({ companyId, message: 'Quel taux de TVA ?' });
//   for await (const delta of ai.chatStream({ companyId, message })) render(delta.content);
//   const { suggestions } = await ai.suggest('Site web pour mon restaurant');
//   const page = await ai.conversations.list({ page: 1, pageSize: 20 });
//
// Edge Functions are called through supabase.functions.invoke, conversations are read and
// changed through PostgREST under RLS (a user only ever sees their own). Every failure is an
// AiCacheError carrying the server's code and the HTTP status.
import type { SupabaseClient } from '@supabase/supabase-js';
import type { Database, Json, Tables } from './database.types.ts';
import { AiCacheError, errorFromInvoke, errorFromPostgrest } from './errors.ts';
import { sseData } from './sse.ts';

export { AiCacheError, type AiCacheErrorCode } from './errors.ts';

/** The supabase-js versions this client works with (a peer dependency: the app brings its own). */
export const SUPABASE_JS_SUPPORTED = '>=2.105.1 <3';
export { type CachedOpenAIOptions, createCachedOpenAI } from './openai.ts';
export type { Database, Json, Tables } from './database.types.ts';

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

export type CacheStatus = 'HIT' | 'MISS' | 'BYPASS' | 'STALE' | 'COALESCED';
export type ContextType = 'general' | 'accounting' | 'banking' | 'inventory';

/** Per-request cache controls, sent as Cache-Control / X-Cache-TTL. */
export interface CacheOptions {
  /** Skip the lookup, still store the fresh answer. */
  noCache?: boolean;
  /** Neither read nor write the cache. */
  noStore?: boolean;
  /** Accept only cached answers younger than this many seconds. */
  maxAge?: number;
  /** Answer from the cache or fail with code `not_cached` (504); never call the model. */
  onlyIfCached?: boolean;
  /** Lifetime of the stored answer, in seconds. */
  ttlSeconds?: number;
}

export interface RequestOptions {
  cache?: CacheOptions;
  signal?: AbortSignal;
}

export interface ChatParams extends RequestOptions {
  companyId: string;
  message: string;
  /** Continue this conversation; a new one is created when absent. */
  conversationId?: string | null;
  contextType?: ContextType;
  model?: string;
  /**
   * Sent as `Idempotency-Key`: retrying with the same key (within 24 h, same user and company)
   * returns the stored turn instead of asking the model again.
   */
  idempotencyKey?: string;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** ai-chat's answer. */
export interface ChatReply {
  conversation_id: string;
  message_id: string;
  /** The assistant's answer. */
  message: string;
  from_cache: boolean;
  cache: CacheStatus;
  model: string;
  usage: Usage;
}

export interface SuggestParams extends RequestOptions {
  /** The project description (`description_projet`). */
  description: string;
  /** Use (and fill) this company's own cache scope instead of the global one; members only. */
  companyId?: string | null;
}

export interface Suggestions {
  type_projet: string;
  nombre_pages: number;
  delai_souhaite: string;
  budget: string;
}

/** ai-suggest's answer (the seed 000 contract), plus the X-Cache status. */
export interface SuggestReply {
  success: true;
  suggestions: Suggestions;
  explication: string;
  from_cache: boolean;
  cache: CacheStatus | null;
}

export type Conversation = Tables<'ai_conversations'>;
export type Message = Tables<'ai_messages'>;

export interface ConversationWithMessages {
  conversation: Conversation;
  /** In conversation order. */
  messages: Message[];
}

export interface ListConversationsOptions {
  /** 1-based page number (default 1). */
  page?: number;
  /** Conversations per page, 1..100 (default 20). */
  pageSize?: number;
  /** Include archived conversations (default false). */
  includeArchived?: boolean;
  /** Only this company's conversations (default: every company the user belongs to). */
  companyId?: string;
}

export interface ConversationPage {
  /** Most recently active first. */
  items: Conversation[];
  /** Conversations matching the filters, over all pages. */
  total: number;
  page: number;
  pageSize: number;
  hasMore: boolean;
}

export interface CacheTypeStats {
  cache_type: string;
  entries: number;
  expired_entries: number;
  hits: number;
  misses: number;
  total_uses: number;
  hit_rate: number;
  reuse_rate: number;
  tokens_saved: number;
  cost_saved_usd: number;
  /** Every successful model call, cached or not. */
  upstream_calls: number;
  upstream_errors: number;
  upstream_tokens: number;
  upstream_cost_usd: number;
  /** Of upstream_calls: answers not cached (no-store, refusal, truncated), spend without savings. */
  uncached_calls: number;
  uncached_tokens: number;
  uncached_cost_usd: number;
}

/** get_cache_stats(): exact at call time. */
export interface CacheStats extends Omit<CacheTypeStats, 'cache_type'> {
  scope: 'company' | 'all';
  company_id: string | null;
  by_type: CacheTypeStats[];
}

/** One piece of a streamed answer. Converts to its text, so `text += delta` works. */
export class ChatDelta {
  constructor(
    readonly content: string,
    /** True when this is part of a refusal rather than an answer. */
    readonly refusal = false,
  ) {}

  toString(): string {
    return this.content;
  }

  [Symbol.toPrimitive](): string {
    return this.content;
  }
}

/** ai-chat's streamed answer, complete. */
export type ChatStreamResult = ChatReply;

export interface AiCacheClientOptions {
  /** Edge Function names, if deployed under other names. */
  functions?: { chat?: string; suggest?: string };
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function cacheHeaders(cache: CacheOptions | undefined): Record<string, string> {
  if (!cache) return {};
  const directives: string[] = [];
  if (cache.noCache) directives.push('no-cache');
  if (cache.noStore) directives.push('no-store');
  if (cache.maxAge !== undefined) directives.push(`max-age=${cache.maxAge}`);
  if (cache.onlyIfCached) directives.push('only-if-cached');
  const headers: Record<string, string> = {};
  if (directives.length) headers['Cache-Control'] = directives.join(', ');
  if (cache.ttlSeconds !== undefined) headers['X-Cache-TTL'] = String(cache.ttlSeconds);
  return headers;
}

function invalid(message: string): AiCacheError {
  return new AiCacheError('invalid_request', 400, message);
}

/** Accepts the documented camelCase names and the wire's snake_case ones. */
function field<T>(params: object, camel: string, snake: string): T | undefined {
  const p = params as Record<string, unknown>;
  return (p[camel] ?? p[snake]) as T | undefined;
}

function cacheStatusOf(response: Response | undefined): CacheStatus | null {
  const value = response?.headers.get('x-cache');
  return value ? (value as CacheStatus) : null;
}

function withoutUndefined(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
}

// ---------------------------------------------------------------------------------------------
// Streaming
// ---------------------------------------------------------------------------------------------

/**
 * A streamed chat answer: iterate it for the deltas (once), then read `result` for the
 * conversation id, message id, cache status and usage. `collect()` reads it to the end.
 * A failure (before or during the stream) is thrown by the iteration and rejects `result`.
 */
export class ChatStream implements AsyncIterable<ChatDelta> {
  /** Known from the first event on. */
  conversationId: string | null = null;
  /** The X-Cache status, known once the response started. */
  cache: CacheStatus | null = null;
  /** Resolves when the stream ended normally (after [DONE]). */
  readonly result: Promise<ChatStreamResult>;
  private settle!: { resolve: (r: ChatStreamResult) => void; reject: (e: AiCacheError) => void };
  private settled = false;
  private started = false;

  constructor(
    private readonly open: () => Promise<Response | ChatReply>,
    private readonly signal?: AbortSignal,
  ) {
    this.result = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // A caller that only iterates must not get an unhandled rejection from `result`.
    this.result.catch(() => {});
  }

  private finish(outcome: { ok: ChatStreamResult } | { error: AiCacheError }) {
    if (this.settled) return;
    this.settled = true;
    if ('ok' in outcome) this.settle.resolve(outcome.ok);
    else this.settle.reject(outcome.error);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ChatDelta> {
    if (this.started) throw new AiCacheError('invalid_request', 0, 'A chat stream can be iterated only once');
    this.started = true;
    try {
      const opened = await this.open();
      if (!(opened instanceof Response)) {
        // The server answered with JSON (e.g. a proxy that buffered): one delta, same result.
        this.conversationId = opened.conversation_id;
        this.cache = opened.cache;
        if (opened.message) yield new ChatDelta(opened.message);
        this.finish({ ok: opened });
        return;
      }
      this.cache = cacheStatusOf(opened);
      if (!opened.body) throw new AiCacheError('stream_interrupted', 502, 'The response has no body');
      let text = '';
      let sawDone = false;
      let final: Partial<ChatReply> & { usage?: Usage } = {};
      let model = '';
      for await (const data of sseData(opened.body, this.signal)) {
        if (data === '[DONE]') {
          sawDone = true;
          break;
        }
        let event: Record<string, unknown>;
        try {
          event = JSON.parse(data) as Record<string, unknown>;
        } catch {
          throw new AiCacheError('stream_interrupted', 502, 'The stream sent an unreadable event');
        }
        const error = event.error as { code?: string; message?: string } | undefined;
        if (error) {
          const code = error.code ?? 'model_stream_failed';
          throw new AiCacheError(code, code === 'storage_failed' ? 503 : 502, error.message ?? 'The stream failed', {
            serverCode: code,
          });
        }
        if (typeof event.conversation_id === 'string') this.conversationId = event.conversation_id;
        if (typeof event.model === 'string') model = event.model;
        const choices = event.choices as
          | Array<{ delta?: { content?: string | null; refusal?: string | null } }>
          | undefined;
        const delta = choices?.[0]?.delta;
        if (delta?.content) {
          text += delta.content;
          yield new ChatDelta(delta.content);
        }
        if (delta?.refusal) {
          text += delta.refusal;
          yield new ChatDelta(delta.refusal, true);
        }
        if (Array.isArray(choices) && choices.length === 0 && event.usage) final = event as typeof final;
      }
      if (!sawDone || !final.message_id) {
        throw new AiCacheError(
          'stream_interrupted',
          502,
          'The stream ended before the answer was complete; it was not kept',
        );
      }
      this.finish({
        ok: {
          conversation_id: final.conversation_id ?? this.conversationId ?? '',
          message_id: final.message_id,
          message: text,
          from_cache: final.from_cache ?? false,
          cache: final.cache ?? this.cache ?? 'MISS',
          model: final.model ?? model,
          usage: final.usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
        },
      });
    } catch (err) {
      const error = err instanceof AiCacheError ? err : await errorFromInvoke(err);
      this.finish({ error });
      throw error;
    } finally {
      // The consumer stopped iterating early.
      this.finish({ error: new AiCacheError('aborted', 0, 'The stream was closed before its end') });
    }
  }

  /** Reads the whole stream; resolves with the complete answer. */
  async collect(): Promise<ChatStreamResult> {
    if (!this.started) { for await (const _ of this) void _; }
    return this.result;
  }
}

// ---------------------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------------------

export interface AiCacheClient {
  /** Sends a message (creating the conversation when no id is given) and returns the answer. */
  chat(params: ChatParams): Promise<ChatReply>;
  chat(companyId: string, message: string, options?: Omit<ChatParams, 'companyId' | 'message'>): Promise<ChatReply>;
  /** Same as chat, streamed: iterate the deltas, then read `.result`. */
  chatStream(params: ChatParams): ChatStream;
  chatStream(companyId: string, message: string, options?: Omit<ChatParams, 'companyId' | 'message'>): ChatStream;
  /** Project suggestions for a description (ai-suggest, seed 000). Works with the anon key. */
  suggest(params: SuggestParams): Promise<SuggestReply>;
  suggest(description: string, options?: Omit<SuggestParams, 'description'>): Promise<SuggestReply>;
  conversations: {
    list(options?: ListConversationsOptions): Promise<ConversationPage>;
    /** The conversation and its messages; `not_found` when absent or not the caller's. */
    get(id: string): Promise<ConversationWithMessages>;
    rename(id: string, title: string): Promise<Conversation>;
    archive(id: string, archived?: boolean): Promise<Conversation>;
    unarchive(id: string): Promise<Conversation>;
    delete(id: string): Promise<void>;
  };
  /** Cache statistics of a company (owners/admins), or of everything (service role, no id). */
  cacheStats(companyId?: string | null): Promise<CacheStats>;
  /** Conversation statistics of a company (members: their own; owners/admins: company-wide). */
  conversationStats(companyId: string): Promise<Json>;
}

type AnySupabaseClient = SupabaseClient<Database> | SupabaseClient;

export function createAiCacheClient(supabase: AnySupabaseClient, options: AiCacheClientOptions = {}): AiCacheClient {
  const db = supabase as unknown as SupabaseClient<Database>;
  const chatFn = options.functions?.chat ?? 'ai-chat';
  const suggestFn = options.functions?.suggest ?? 'ai-suggest';

  async function invoke<T>(
    name: string,
    body: Record<string, unknown>,
    headers: Record<string, string>,
    signal?: AbortSignal,
  ) {
    let result: { data: unknown; error: unknown; response?: Response };
    try {
      result = (await db.functions.invoke(name, { body, headers, ...(signal ? { signal } : {}) })) as typeof result;
    } catch (err) {
      throw await errorFromInvoke(err);
    }
    if (result.error) throw await errorFromInvoke(result.error);
    return { data: result.data as T, response: result.response };
  }

  function chatArgs(
    a: ChatParams | string,
    message?: string,
    rest?: Omit<ChatParams, 'companyId' | 'message'>,
  ): ChatParams {
    if (typeof a === 'string') return { ...(rest ?? {}), companyId: a, message: message ?? '' };
    if (!a || typeof a !== 'object') throw invalid('chat: pass { companyId, message }');
    return a;
  }

  function chatBody(p: ChatParams, stream: boolean) {
    return withoutUndefined({
      company_id: field(p, 'companyId', 'company_id'),
      conversation_id: field(p, 'conversationId', 'conversation_id') ?? undefined,
      message: p.message,
      context_type: field(p, 'contextType', 'context_type'),
      model: p.model,
      ...(stream ? { stream: true } : {}),
    });
  }

  function chatHeaders(p: ChatParams): Record<string, string> {
    return { ...cacheHeaders(p.cache), ...(p.idempotencyKey ? { 'Idempotency-Key': p.idempotencyKey } : {}) };
  }

  async function chat(
    a: ChatParams | string,
    message?: string,
    rest?: Omit<ChatParams, 'companyId' | 'message'>,
  ): Promise<ChatReply> {
    const p = chatArgs(a, message, rest);
    const { data, response } = await invoke<ChatReply>(chatFn, chatBody(p, false), chatHeaders(p), p.signal);
    return { ...data, cache: data.cache ?? cacheStatusOf(response) ?? 'MISS' };
  }

  function chatStream(
    a: ChatParams | string,
    message?: string,
    rest?: Omit<ChatParams, 'companyId' | 'message'>,
  ): ChatStream {
    const p = chatArgs(a, message, rest);
    return new ChatStream(async () => {
      const { data } = await invoke<Response | ChatReply>(
        chatFn,
        chatBody(p, true),
        { Accept: 'text/event-stream', ...chatHeaders(p) },
        p.signal,
      );
      return data;
    }, p.signal);
  }

  async function suggest(a: SuggestParams | string, rest?: Omit<SuggestParams, 'description'>): Promise<SuggestReply> {
    const p: SuggestParams = typeof a === 'string' ? { ...(rest ?? {}), description: a } : a;
    if (!p || typeof p !== 'object') throw invalid('suggest: pass a description');
    const description = field<string>(p, 'description', 'description_projet');
    const companyId = field<string | null>(p, 'companyId', 'company_id');
    const body = withoutUndefined({ description_projet: description, company_id: companyId ?? undefined });
    const { data, response } = await invoke<Omit<SuggestReply, 'cache'>>(
      suggestFn,
      body,
      cacheHeaders(p.cache),
      p.signal,
    );
    return { ...data, cache: cacheStatusOf(response) };
  }

  async function updateConversation(
    id: string,
    patch: { title?: string; is_archived?: boolean },
  ): Promise<Conversation> {
    const { data, error, status } = await db.from('ai_conversations').update(patch).eq('id', id).select();
    if (error) throw errorFromPostgrest(error, status);
    const row = data?.[0];
    if (!row) throw new AiCacheError('not_found', 404, `Conversation ${id} not found`);
    return row;
  }

  const conversations: AiCacheClient['conversations'] = {
    async list(opts = {}) {
      const page = opts.page ?? 1;
      const pageSize = opts.pageSize ?? (opts as { page_size?: number }).page_size ?? 20;
      if (!Number.isInteger(page) || page < 1) throw invalid('conversations.list: page must be an integer >= 1');
      if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) {
        throw invalid('conversations.list: pageSize must be an integer between 1 and 100');
      }
      const includeArchived = opts.includeArchived ?? (opts as { include_archived?: boolean }).include_archived ??
        false;
      const companyId = field<string>(opts, 'companyId', 'company_id');
      const from = (page - 1) * pageSize;
      let query = db.from('ai_conversations').select('*', { count: 'exact' });
      if (!includeArchived) query = query.eq('is_archived', false);
      if (companyId) query = query.eq('company_id', companyId);
      const { data, error, count, status } = await query
        .order('updated_at', { ascending: false })
        .order('id', { ascending: false })
        .range(from, from + pageSize - 1);
      // Past the last page PostgREST answers 416 (PGRST103): an empty page, not an error.
      if (error && error.code !== 'PGRST103') throw errorFromPostgrest(error, status);
      const items = error ? [] : (data ?? []);
      const total = count ?? from + items.length;
      return { items, total, page, pageSize, hasMore: from + items.length < total };
    },

    async get(id) {
      const { data, error, status } = await db.rpc('get_conversation_with_messages', { p_conversation_id: id });
      if (error) throw errorFromPostgrest(error, status);
      if (!data) throw new AiCacheError('not_found', 404, `Conversation ${id} not found`);
      return data as unknown as ConversationWithMessages;
    },

    rename(id, title) {
      if (typeof title !== 'string' || !title.trim()) {
        return Promise.reject(invalid('conversations.rename: title must not be empty'));
      }
      if (title.trim().length > 500) {
        return Promise.reject(invalid('conversations.rename: title must be at most 500 characters'));
      }
      return updateConversation(id, { title: title.trim() });
    },

    archive(id, archived = true) {
      return updateConversation(id, { is_archived: archived });
    },

    unarchive(id) {
      return updateConversation(id, { is_archived: false });
    },

    async delete(id) {
      const { data, error, status } = await db.from('ai_conversations').delete().eq('id', id).select('id');
      if (error) throw errorFromPostgrest(error, status);
      if (!data?.length) throw new AiCacheError('not_found', 404, `Conversation ${id} not found`);
    },
  };

  async function cacheStats(companyId?: string | null): Promise<CacheStats> {
    const { data, error, status } = await db.rpc('get_cache_stats', companyId ? { p_company_id: companyId } : {});
    if (error) throw errorFromPostgrest(error, status);
    return data as unknown as CacheStats;
  }

  async function conversationStats(companyId: string): Promise<Json> {
    const { data, error, status } = await db.rpc('get_conversation_stats', { p_company_id: companyId });
    if (error) throw errorFromPostgrest(error, status);
    return data;
  }

  return {
    chat: chat as AiCacheClient['chat'],
    chatStream: chatStream as AiCacheClient['chatStream'],
    suggest: suggest as AiCacheClient['suggest'],
    conversations,
    cacheStats,
    conversationStats,
  };
}
