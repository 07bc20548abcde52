import { estimateTokens, fnv1a, shortHash, takeCodePoints } from './determinism.ts';
import { type ChatRequest, lastUserMessage, promptText, type ToolDefinition } from './chat-request.ts';
import { sampleFromSchema } from './schema-sample.ts';

export const REFUSE_MARKER = '[[refuse]]';
export const TOOL_MARKER = '[[tool]]';
export const REFUSAL_TEXT = "I'm sorry, but I can't help with that request.";

/**
 * Fields that change how an answer is delivered or billed, not what it says. They are left out
 * of the answer hash so stream and non-stream calls agree and a max_tokens cut is a prefix of
 * the full answer. `n` is the number of choices (see answerChoices), not part of any one answer.
 */
const DELIVERY_FIELDS = new Set([
  'stream',
  'stream_options',
  'max_tokens',
  'max_completion_tokens',
  'n',
  'user',
  'metadata',
  'store',
  'service_tier',
  'safety_identifier',
  'prompt_cache_key',
  'prompt_cache_retention',
]);

const MAX_ECHO_CHARS = 2000;

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls';

export interface ChatAnswer {
  content: string | null;
  refusal: string | null;
  toolCalls: ToolCall[] | null;
  finishReason: FinishReason;
  usage: Usage;
}

export interface CompletionMeta {
  id: string;
  created: number;
  model: string;
}

const SYSTEM_FINGERPRINT = 'fp_simopenai';

export function requestHash(req: ChatRequest): string {
  const relevant: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(req)) if (!DELIVERY_FIELDS.has(k)) relevant[k] = v;
  return shortHash(relevant);
}

const MAX_CHOICES = 8;

/** One answer per requested choice (`n`, 1..8): choice 0 is answerChat's, the others are variants. */
export function answerChoices(req: ChatRequest): ChatAnswer[] {
  const n = typeof req.n === 'number' && Number.isInteger(req.n) ? Math.min(Math.max(req.n, 1), MAX_CHOICES) : 1;
  return Array.from({ length: n }, (_, i) => answerChat(req, i));
}

/** The answer is a pure function of the request, which is what lets a cache in front of it be verified. */
export function answerChat(req: ChatRequest, variant = 0): ChatAnswer {
  const hash = variant === 0 ? requestHash(req) : shortHash(`${requestHash(req)}|choice${variant}`);
  const lastUser = lastUserMessage(req.messages);
  const promptTokens = estimateTokens(promptText(req));

  const tool = chooseToolCall(req, lastUser);
  if (tool) {
    const args = JSON.stringify(
      sampleFromSchema(tool.function!.parameters ?? { type: 'object', properties: {} }, hash),
    );
    const call: ToolCall = {
      id: `call_${shortHash(`${hash}|${tool.function!.name}`, 24)}`,
      type: 'function',
      function: { name: tool.function!.name, arguments: args },
    };
    return finish(null, null, [call], 'tool_calls', promptTokens, estimateTokens(call.function.name + args));
  }

  if (lastUser.includes(REFUSE_MARKER)) {
    return finish(null, REFUSAL_TEXT, null, 'stop', promptTokens, estimateTokens(REFUSAL_TEXT));
  }

  let content = answerText(req, lastUser, hash);
  let finishReason: FinishReason = 'stop';
  let completionTokens = estimateTokens(content);
  const limit = req.max_completion_tokens ?? req.max_tokens;
  if (typeof limit === 'number' && completionTokens > limit) {
    content = takeCodePoints(content, limit * 4);
    finishReason = 'length';
    completionTokens = limit;
  }
  return finish(content, null, null, finishReason, promptTokens, completionTokens);
}

function finish(
  content: string | null,
  refusal: string | null,
  toolCalls: ToolCall[] | null,
  finishReason: FinishReason,
  promptTokens: number,
  completionTokens: number,
): ChatAnswer {
  return {
    content,
    refusal,
    toolCalls,
    finishReason,
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
  };
}

function answerText(req: ChatRequest, lastUser: string, hash: string): string {
  const echo = lastUser.length > MAX_ECHO_CHARS ? `${takeCodePoints(lastUser, MAX_ECHO_CHARS)}…` : lastUser;
  const sentence = `Simulated answer to: ${echo} [${hash}]`;
  const format = req.response_format;
  if (format?.type === 'json_schema') {
    return JSON.stringify(sampleFromSchema(format.json_schema.schema ?? { type: 'object', properties: {} }, hash));
  }
  if (format?.type === 'json_object') {
    return JSON.stringify({ answer: sentence, request_hash: hash });
  }
  return sentence;
}

/**
 * A tool call is produced only when the conversation ends with the user's turn, so a tool
 * runner that appends tool results afterwards gets a text answer instead of looping forever.
 */
function chooseToolCall(req: ChatRequest, lastUser: string): ToolDefinition | undefined {
  const tools = (req.tools ?? []).filter((t) => t?.type === 'function' && typeof t.function?.name === 'string');
  if (tools.length === 0 || req.tool_choice === 'none') return undefined;
  if (req.messages[req.messages.length - 1]?.role !== 'user') return undefined;
  const choice = req.tool_choice as { type?: string; function?: { name?: string } } | string | undefined;
  const named = typeof choice === 'object' && choice?.function?.name ? choice.function.name : undefined;
  const forced = choice === 'required' || named !== undefined;
  if (!forced && !lastUser.includes(TOOL_MARKER)) return undefined;
  return tools.find((t) => t.function!.name === named) ?? tools[0];
}

/** `logprobs` / `top_logprobs` of the request: when asked, each content token gets a (deterministic) log probability. */
export interface LogprobOptions {
  logprobs?: boolean | null;
  top_logprobs?: number | null;
}

const TOKEN_PATTERN = /\s*\S+|\s+$/gu;

/** OpenAI's `logprobs.content` for a text: one entry per word-ish token, alternatives that are never likelier. */
export function tokenLogprobs(text: string, opts: LogprobOptions) {
  if (!opts.logprobs) return null;
  const top = Math.min(Math.max(opts.top_logprobs ?? 0, 0), 20);
  const entry = (token: string, logprob: number) => ({
    token,
    logprob,
    bytes: Array.from(new TextEncoder().encode(token)),
  });
  return (text.match(TOKEN_PATTERN) ?? []).map((token) => {
    const logprob = -((fnv1a(token) % 1000) / 4000);
    const alternatives = Array.from(
      { length: top },
      (_, i) => entry(i === 0 ? token : `${token.trim()}_${i}`, i === 0 ? logprob : logprob - i),
    );
    return { ...entry(token, logprob), top_logprobs: alternatives };
  });
}

function choiceLogprobs(answer: ChatAnswer, opts: LogprobOptions) {
  if (!opts.logprobs) return null;
  return {
    content: answer.content === null ? null : tokenLogprobs(answer.content, opts),
    refusal: answer.refusal === null ? null : tokenLogprobs(answer.refusal, opts),
  };
}

function totalUsage(answers: ChatAnswer[]): Usage {
  const completion = answers.reduce((sum, a) => sum + a.usage.completion_tokens, 0);
  const prompt = answers[0]!.usage.prompt_tokens;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export function toCompletion(answer: ChatAnswer | ChatAnswer[], meta: CompletionMeta, opts: LogprobOptions = {}) {
  const answers = Array.isArray(answer) ? answer : [answer];
  return {
    id: meta.id,
    object: 'chat.completion' as const,
    created: meta.created,
    model: meta.model,
    choices: answers.map((a, index) => ({
      index,
      message: {
        role: 'assistant' as const,
        content: a.content,
        refusal: a.refusal,
        ...(a.toolCalls ? { tool_calls: a.toolCalls } : {}),
        annotations: [],
      },
      finish_reason: a.finishReason,
      logprobs: choiceLogprobs(a, opts),
    })),
    usage: usageWithDetails(totalUsage(answers)),
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
}

function usageWithDetails(usage: Usage) {
  return {
    ...usage,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** Chunk sequence as OpenAI streams it: per choice a role delta, content deltas, a finish delta; then an optional usage-only chunk. */
export function toChunks(
  answer: ChatAnswer | ChatAnswer[],
  meta: CompletionMeta,
  includeUsage: boolean,
  opts: LogprobOptions = {},
): object[] {
  const answers = Array.isArray(answer) ? answer : [answer];
  const base = {
    id: meta.id,
    object: 'chat.completion.chunk' as const,
    created: meta.created,
    model: meta.model,
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
  const chunks: object[] = [];
  answers.forEach((a, choice) => {
    const chunk = (delta: object, finishReason: FinishReason | null = null, logprobs: object | null = null) => ({
      ...base,
      choices: [{ index: choice, delta, logprobs, finish_reason: finishReason }],
      ...(includeUsage ? { usage: null } : {}),
    });
    if (a.toolCalls) {
      a.toolCalls.forEach((call, index) => {
        const head = { index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } };
        chunks.push(
          chunk(index === 0 ? { role: 'assistant', content: null, tool_calls: [head] } : { tool_calls: [head] }),
        );
        for (const piece of splitDeltas(call.function.arguments)) {
          chunks.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
        }
      });
    } else if (a.refusal !== null) {
      chunks.push(chunk({ role: 'assistant', refusal: '' }));
      for (const piece of splitDeltas(a.refusal)) {
        chunks.push(
          chunk(
            { refusal: piece },
            null,
            opts.logprobs ? { content: null, refusal: tokenLogprobs(piece, opts) } : null,
          ),
        );
      }
    } else {
      chunks.push(chunk({ role: 'assistant', content: '', refusal: null }));
      for (const piece of splitDeltas(a.content ?? '')) {
        chunks.push(
          chunk(
            { content: piece },
            null,
            opts.logprobs ? { content: tokenLogprobs(piece, opts), refusal: null } : null,
          ),
        );
      }
    }
    chunks.push(chunk({}, a.finishReason));
  });
  if (includeUsage) chunks.push({ ...base, choices: [], usage: usageWithDetails(totalUsage(answers)) });
  return chunks;
}

const MAX_DELTAS = 64;

/** Splits into word-ish deltas (at least a few, at most MAX_DELTAS) whose concatenation is exactly the input. */
export function splitDeltas(text: string): string[] {
  if (text === '') return [];
  const words = text.match(/\s*\S+\s*/gu) ?? [text];
  if (words.join('') !== text || words.length < 4) return splitByCodePoints(text, 4);
  const perDelta = Math.ceil(words.length / MAX_DELTAS);
  const out: string[] = [];
  for (let i = 0; i < words.length; i += perDelta) out.push(words.slice(i, i + perDelta).join(''));
  return out;
}

function splitByCodePoints(text: string, parts: number): string[] {
  const points = Array.from(text);
  const size = Math.max(1, Math.ceil(points.length / parts));
  const out: string[] = [];
  for (let i = 0; i < points.length; i += size) out.push(points.slice(i, i + size).join(''));
  return out;
}
