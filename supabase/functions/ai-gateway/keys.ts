// Cache keys of the gateway's requests, built on the shared canonical form (_shared/cache-key.ts):
// the fields that change an answer are in, delivery and bookkeeping fields are out. Every key
// also carries the cache type and the scope, so two types or two companies never share an entry.
import { CACHE_KEY_VERSION, canonicalChatRequest, type ChatMessageInput, normalizeText } from '../_shared/cache-key.ts';
import { canonicalJson, sha256Hex } from '../_shared/canonical-json.ts';
import type { ScopedKeys } from './cache-adapter.ts';

/** Fields that change how an answer is delivered or billed, or who asked: never in the key. */
export const CHAT_FIELDS_OUT_OF_KEY = new Set([
  'stream',
  'stream_options',
  'user',
  'metadata',
  'store',
  'service_tier',
  'safety_identifier',
  'prompt_cache_key',
  'prompt_cache_retention',
]);

/** Fields canonicalChatRequest normalizes (defaults filled in); every other field is keyed as sent. */
const NORMALIZED_FIELDS = new Set([
  'model',
  'messages',
  'temperature',
  'top_p',
  'max_tokens',
  'presence_penalty',
  'frequency_penalty',
  'n',
  'seed',
  'stop',
  'response_format',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'logit_bias',
  'reasoning_effort',
]);

type Body = Record<string, unknown>;

/** Text is normalized like ai-chat's (string content and text parts); other parts are keyed as sent. */
function canonicalContent(content: unknown): unknown {
  if (typeof content === 'string') return normalizeText(content);
  if (!Array.isArray(content)) return content ?? null;
  return content.map((part) =>
    part && typeof part === 'object' && (part as { type?: unknown }).type === 'text' &&
      typeof (part as { text?: unknown }).text === 'string'
      ? { ...part, text: normalizeText((part as { text: string }).text) }
      : part
  );
}

export function canonicalChatCompletion(body: Body, cacheType: string, scope: string): Record<string, unknown> {
  const messages = body.messages as Array<Record<string, unknown>>;
  const base = canonicalChatRequest({
    ...(body as Partial<Parameters<typeof canonicalChatRequest>[0]>),
    cacheType,
    scope,
    model: String(body.model),
    // Content is canonicalized below (it may be an array of parts); the shared form keys the rest.
    messages: messages.map((m) => ({ ...m, content: null }) as unknown as ChatMessageInput),
  });
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    if (!NORMALIZED_FIELDS.has(k) && !CHAT_FIELDS_OUT_OF_KEY.has(k) && v !== null && v !== undefined) extra[k] = v;
  }
  return {
    ...base,
    endpoint: 'chat.completions',
    messages: messages.map((m) => {
      const { content, ...rest } = m;
      return { ...rest, content: canonicalContent(content) };
    }),
    extra,
  };
}

export async function chatCompletionKeys(
  body: Body,
  cacheType: string,
  companyId: string | null,
): Promise<{ keys: ScopedKeys; canonical: Record<string, unknown> }> {
  const canonical = canonicalChatCompletion(body, cacheType, companyId ?? 'global');
  const company = await sha256Hex(canonicalJson(canonical));
  const global = companyId === null ? company : await sha256Hex(canonicalJson({ ...canonical, scope: 'global' }));
  return { keys: { company, global }, canonical };
}

export interface EmbeddingKeyInput {
  model: string;
  dimensions: number | null;
  encodingFormat: string;
  item: string | number[];
}

/** One embedding input item (a string or a token array), exactly as sent: no text normalization. */
export function canonicalEmbedding(
  input: EmbeddingKeyInput,
  cacheType: string,
  scope: string,
): Record<string, unknown> {
  return {
    v: CACHE_KEY_VERSION,
    endpoint: 'embeddings',
    cache_type: cacheType,
    scope,
    model: input.model.trim().toLowerCase(),
    dimensions: input.dimensions,
    encoding_format: input.encodingFormat,
    input: input.item,
  };
}

export async function embeddingKeys(
  input: EmbeddingKeyInput,
  cacheType: string,
  companyId: string | null,
): Promise<{ keys: ScopedKeys; canonical: Record<string, unknown> }> {
  const canonical = canonicalEmbedding(input, cacheType, companyId ?? 'global');
  const company = await sha256Hex(canonicalJson(canonical));
  const global = companyId === null ? company : await sha256Hex(canonicalJson({ ...canonical, scope: 'global' }));
  return { keys: { company, global }, canonical };
}
