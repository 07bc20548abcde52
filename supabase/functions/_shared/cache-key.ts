// The cache key: sha256 of a documented, versioned canonical form of everything that changes
// an answer. Bump CACHE_KEY_VERSION whenever the canonical form changes: old entries then
// simply stop matching (and `ai-cache purge --key-version` drops them).
import { canonicalJson, sha256Hex } from './canonical-json.ts';
import { storableText } from './text.ts';

/**
 * 2: indentation and fenced code blocks are kept; text is made storable (see text.ts) first.
 * 3: an ai-chat turn's key covers its history through chat_turn (private.chat_turn_key): the
 *    function's canonical request holds only the new question and every prompt's version.
 */
export const CACHE_KEY_VERSION = 3;

/** A fence opens a code block: up to 3 spaces, then 3+ backticks or tildes (CommonMark). */
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/**
 * The canonical form of message text (key v2). Prose variants share a key; programs that
 * differ only in indentation do not:
 * - storable (U+0000 removed, lone surrogates → U+FFFD), Unicode NFC, CRLF / CR → LF;
 * - inside a fenced code block (``` or ~~~, until the same fence closes it, or the end of the
 *   text) every line is kept exactly;
 * - outside: a line's leading whitespace (its indentation) is kept, runs of spaces and tabs
 *   after it become one space, trailing whitespace is removed; at most one blank line in a
 *   row; the indentation common to all non-blank lines outside fences is removed (dedent);
 * - leading and trailing blank lines removed.
 */
export function normalizeText(text: string): string {
  const lines = storableText(text).normalize('NFC').replace(/\r\n?/g, '\n').split('\n');
  const out: { text: string; code: boolean }[] = [];
  let fence: string | null = null;
  for (const line of lines) {
    if (fence !== null) {
      const closing = FENCE.exec(line);
      if (closing && closing[1][0] === fence[0] && closing[1].length >= fence.length && line.trim() === closing[1]) {
        fence = null;
        out.push({ text: line.trimEnd(), code: false });
      } else {
        out.push({ text: line, code: true });
      }
      continue;
    }
    const opening = FENCE.exec(line);
    if (opening && !(opening[1][0] === '`' && line.slice(opening[0].length).includes('`'))) fence = opening[1];
    const indent = /^[ \t]*/.exec(line)![0];
    const rest = line.slice(indent.length).replace(/[ \t]+/g, ' ').trimEnd();
    out.push({ text: rest ? indent + rest : '', code: false });
  }
  const prose = out.filter((l) => !l.code && l.text !== '').map((l) => /^[ \t]*/.exec(l.text)![0]);
  const common = prose.length ? prose.reduce((a, b) => commonPrefix(a, b)) : '';
  const kept: string[] = [];
  for (const l of out) {
    const t = l.code ? l.text : l.text.slice(common.length);
    if (!l.code && t === '' && (kept.length === 0 || kept[kept.length - 1] === '')) continue;
    kept.push(t);
  }
  while (kept.length && kept[kept.length - 1].trim() === '') kept.pop();
  return kept.join('\n');
}

function commonPrefix(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return a.slice(0, i);
}

/** Seed 000's rule for suggestions (lower-case, trimmed) plus storable text, NFC and collapsed inner whitespace. */
export function normalizeDescription(text: string): string {
  return storableText(text).normalize('NFC').toLowerCase().replace(/\s+/g, ' ').trim();
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
