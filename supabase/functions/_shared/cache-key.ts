// The cache key: sha256 of a documented, versioned canonical form of everything that changes
// an answer. Bump CACHE_KEY_VERSION whenever the canonical form changes: old entries then
// simply stop matching (and `ai-cache purge --key-version` drops them).
import { canonicalJson, sha256Hex } from './canonical-json.ts';

export const CACHE_KEY_VERSION = 1;

/** NFC, CRLF → LF, runs of spaces/tabs → one space, no spaces around line breaks, at most one blank line, trimmed. */
export function normalizeText(text: string): string {
  return text
    .normalize('NFC')
    .replace(/\r\n?/g, '\n')
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ ?\n ?/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Seed 000's rule for suggestions (lower-case, trimmed) plus NFC and collapsed inner whitespace. */
export function normalizeDescription(text: string): string {
  return text.normalize('NFC').toLowerCase().replace(/\s+/g, ' ').trim();
}

export interface ChatMessageInput {
  role: 'system' | 'user' | 'assistant' | 'tool' | 'developer';
  content: string | null;
  name?: string;
  tool_call_id?: string;
  tool_calls?: unknown[];
}

/** Request fields that change an answer, with OpenAI's defaults filled in so omitted == default. */
export interface ChatKeyInput {
  cacheType: string;
  /** 'global' or the company id: part of the key so two scopes can never share an entry. */
  scope: string;
  model: string;
  messages: ChatMessageInput[];
  systemPromptVersion?: string | null;
  temperature?: number | null;
  top_p?: number | null;
  max_tokens?: number | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  n?: number | null;
  seed?: number | null;
  stop?: string | string[] | null;
  response_format?: unknown;
  tools?: unknown[] | null;
  tool_choice?: unknown;
  parallel_tool_calls?: boolean | null;
  logit_bias?: Record<string, number> | null;
  reasoning_effort?: string | null;
}

export function canonicalChatRequest(input: ChatKeyInput): Record<string, unknown> {
  const hasTools = Array.isArray(input.tools) && input.tools.length > 0;
  return {
    v: CACHE_KEY_VERSION,
    cache_type: input.cacheType,
    scope: input.scope,
    model: input.model.trim().toLowerCase(),
    system_prompt_version: input.systemPromptVersion ?? null,
    messages: input.messages.map((m) => ({
      role: m.role,
      content: m.content === null ? null : normalizeText(m.content),
      name: m.name ?? null,
      tool_call_id: m.tool_call_id ?? null,
      tool_calls: m.tool_calls ?? null,
    })),
    temperature: input.temperature ?? 1,
    top_p: input.top_p ?? 1,
    max_tokens: input.max_tokens ?? null,
    presence_penalty: input.presence_penalty ?? 0,
    frequency_penalty: input.frequency_penalty ?? 0,
    n: input.n ?? 1,
    seed: input.seed ?? null,
    stop: input.stop == null ? null : (Array.isArray(input.stop) ? input.stop : [input.stop]),
    response_format: input.response_format ?? { type: 'text' },
    tools: hasTools ? input.tools : null,
    tool_choice: hasTools ? (input.tool_choice ?? 'auto') : null,
    parallel_tool_calls: hasTools ? (input.parallel_tool_calls ?? true) : null,
    logit_bias: input.logit_bias && Object.keys(input.logit_bias).length ? input.logit_bias : null,
    reasoning_effort: input.reasoning_effort ?? null,
  };
}

export async function chatCacheKey(input: ChatKeyInput): Promise<{ key: string; canonical: Record<string, unknown> }> {
  const canonical = canonicalChatRequest(input);
  return { key: await sha256Hex(canonicalJson(canonical)), canonical };
}
