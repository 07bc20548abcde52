// Structured output: ask the model for JSON matching a schema (response_format json_schema,
// strict), then check the answer ourselves before anyone uses or caches it. A model may
// still refuse, stop early, or (through a non-OpenAI server) ignore the schema, so an
// invalid answer gets ONE repair attempt (the invalid answer and what was wrong with it are
// sent back); a second invalid answer is an InvalidModelOutputError.
// Transport failures (HTTP errors, timeouts, unparseable responses) are thrown unchanged:
// the openai SDK has already applied its own retry policy to them.
import type OpenAI from 'openai';
import type { z } from 'zod';

export type ChatMessage = { role: 'system' | 'user' | 'assistant'; content: string };

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface StructuredRequest<S extends z.ZodType> {
  model: string;
  messages: ChatMessage[];
  /** response_format.json_schema.name */
  schemaName: string;
  /** The JSON Schema sent to the model (the strict-mode subset: every property required, no extra ones). */
  jsonSchema: Record<string, unknown>;
  /** What the answer must satisfy (at least as strict as jsonSchema); its output is the returned value. */
  validator: S;
  /** The follow-up user message of the repair attempt, given a short description of what was wrong. */
  repairPrompt: (problem: string) => string;
  temperature?: number;
  maxCompletionTokens?: number;
}

export interface StructuredResult<T> {
  value: T;
  /** Summed over the attempts: a repaired answer cost both calls. */
  usage: Usage;
  /** The model that served the valid answer. */
  model: string;
  attempts: number;
}

export class InvalidModelOutputError extends Error {
  constructor(
    readonly problems: string[],
    readonly usage: Usage,
  ) {
    super(
      `The model's answer did not match the expected schema after ${problems.length} attempts: ${problems.join('; ')}`,
    );
  }
}

const MAX_PROBLEM_CHARS = 500;

/** What is wrong with one completion, or its validated value. */
export function checkCompletion<S extends z.ZodType>(
  completion: OpenAI.Chat.Completions.ChatCompletion,
  validator: S,
): { ok: true; value: z.infer<S> } | { ok: false; problem: string; answer: string } {
  const choice = completion.choices?.[0];
  if (!choice) return { ok: false, problem: 'no answer was returned', answer: '' };
  const message = choice.message;
  if (message?.refusal) return { ok: false, problem: 'the answer was a refusal', answer: message.refusal };
  const content = message?.content ?? '';
  if (choice.finish_reason !== 'stop') {
    return { ok: false, problem: `the answer was cut short (finish_reason ${choice.finish_reason})`, answer: content };
  }
  if (!content.trim()) return { ok: false, problem: 'the answer was empty', answer: content };
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    return { ok: false, problem: 'the answer was not valid JSON', answer: content };
  }
  const result = validator.safeParse(parsed);
  if (!result.success) {
    const problem = result.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
      .join('; ');
    return {
      ok: false,
      problem: `the JSON did not match the schema (${problem})`.slice(0, MAX_PROBLEM_CHARS),
      answer: content,
    };
  }
  return { ok: true, value: result.data };
}

function addUsage(a: Usage, b: OpenAI.Completions.CompletionUsage | undefined): Usage {
  return {
    prompt_tokens: a.prompt_tokens + (b?.prompt_tokens ?? 0),
    completion_tokens: a.completion_tokens + (b?.completion_tokens ?? 0),
    total_tokens: a.total_tokens + (b?.total_tokens ?? 0),
  };
}

/** One call, and one repair call when the first answer is invalid. */
export async function completeStructured<S extends z.ZodType>(
  client: OpenAI,
  req: StructuredRequest<S>,
  opts: { signal?: AbortSignal; timeout?: number } = {},
): Promise<StructuredResult<z.infer<S>>> {
  let usage: Usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  let messages: ChatMessage[] = req.messages;
  const problems: string[] = [];
  for (let attempt = 1; attempt <= 2; attempt++) {
    const completion = await client.chat.completions.create(
      {
        model: req.model,
        messages,
        response_format: {
          type: 'json_schema',
          json_schema: { name: req.schemaName, schema: req.jsonSchema, strict: true },
        },
        ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
        ...(req.maxCompletionTokens !== undefined ? { max_completion_tokens: req.maxCompletionTokens } : {}),
      },
      { signal: opts.signal, timeout: opts.timeout },
    );
    usage = addUsage(usage, completion.usage);
    const checked = checkCompletion(completion, req.validator);
    if (checked.ok) return { value: checked.value, usage, model: completion.model ?? req.model, attempts: attempt };
    problems.push(checked.problem);
    messages = [
      ...req.messages,
      { role: 'assistant', content: checked.answer || '(no answer)' },
      { role: 'user', content: req.repairPrompt(checked.problem) },
    ];
  }
  throw new InvalidModelOutputError(problems, usage);
}
