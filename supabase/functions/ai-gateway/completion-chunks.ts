// A chat completion and its stream are two views of one answer: streamed answers are assembled
// into the completion that is cached, and a cached completion replays as chunks. So a streamed
// and a plain request share one entry, and the SDK's stream helpers rebuild the same answer.
import { splitForReplay } from '../_shared/sse.ts';

type Json = Record<string, unknown>;

interface ToolCallAcc {
  id?: string;
  type?: string;
  function: { name: string; arguments: string };
}

interface ChoiceAcc {
  index: number;
  role: string;
  content: string | null;
  refusal: string | null;
  toolCalls: ToolCallAcc[];
  logprobs: { content: unknown[] | null; refusal: unknown[] | null } | null;
  finishReason: string | null;
}

/** Folds `chat.completion.chunk`s into the `chat.completion` the same request answers without `stream`. */
export class CompletionAssembler {
  private head: Json | null = null;
  private readonly choices = new Map<number, ChoiceAcc>();
  private usage: unknown = null;

  add(chunk: Json): void {
    this.head ??= chunk;
    if (chunk.usage) this.usage = chunk.usage;
    for (const c of (chunk.choices as Json[] | undefined) ?? []) {
      const index = Number(c.index ?? 0);
      let acc = this.choices.get(index);
      if (!acc) {
        acc = {
          index,
          role: 'assistant',
          content: null,
          refusal: null,
          toolCalls: [],
          logprobs: null,
          finishReason: null,
        };
        this.choices.set(index, acc);
      }
      const delta = (c.delta ?? {}) as Json;
      if (typeof delta.role === 'string') acc.role = delta.role;
      if (typeof delta.content === 'string') acc.content = (acc.content ?? '') + delta.content;
      if (typeof delta.refusal === 'string') acc.refusal = (acc.refusal ?? '') + delta.refusal;
      for (const t of (delta.tool_calls as Json[] | undefined) ?? []) {
        const i = Number(t.index ?? 0);
        const call = (acc.toolCalls[i] ??= { function: { name: '', arguments: '' } });
        if (typeof t.id === 'string') call.id = t.id;
        if (typeof t.type === 'string') call.type = t.type;
        const fn = (t.function ?? {}) as Json;
        if (typeof fn.name === 'string') call.function.name += fn.name;
        if (typeof fn.arguments === 'string') call.function.arguments += fn.arguments;
      }
      const lp = c.logprobs as { content?: unknown[] | null; refusal?: unknown[] | null } | null | undefined;
      if (lp) {
        acc.logprobs ??= { content: null, refusal: null };
        if (lp.content) acc.logprobs.content = [...(acc.logprobs.content ?? []), ...lp.content];
        if (lp.refusal) acc.logprobs.refusal = [...(acc.logprobs.refusal ?? []), ...lp.refusal];
      }
      if (typeof c.finish_reason === 'string') acc.finishReason = c.finish_reason;
    }
  }

  /** Every choice has finished (a stream cut short never completes). */
  get complete(): boolean {
    return this.head !== null && this.choices.size > 0 &&
      [...this.choices.values()].every((c) => c.finishReason !== null);
  }

  completion(): Json {
    const head = this.head ?? {};
    const choices = [...this.choices.values()].sort((a, b) => a.index - b.index).map((c) => ({
      index: c.index,
      message: {
        role: c.role,
        content: c.content,
        refusal: c.refusal,
        ...(c.toolCalls.length
          ? { tool_calls: c.toolCalls.map((t) => ({ id: t.id, type: t.type ?? 'function', function: t.function })) }
          : {}),
        annotations: [],
      },
      logprobs: c.logprobs,
      finish_reason: c.finishReason,
    }));
    return {
      id: head.id,
      object: 'chat.completion',
      created: head.created,
      model: head.model,
      choices,
      usage: this.usage,
      ...(head.service_tier !== undefined ? { service_tier: head.service_tier } : {}),
      ...(head.system_fingerprint !== undefined ? { system_fingerprint: head.system_fingerprint } : {}),
    };
  }
}

/** The chunks a cached completion replays as: role, content (or refusal, tool calls), finish, then usage if asked. */
export function completionToChunks(completion: Json, includeUsage: boolean): Json[] {
  const base: Json = {
    id: completion.id,
    object: 'chat.completion.chunk',
    created: completion.created,
    model: completion.model,
    ...(completion.service_tier !== undefined ? { service_tier: completion.service_tier } : {}),
    ...(completion.system_fingerprint !== undefined ? { system_fingerprint: completion.system_fingerprint } : {}),
  };
  const out: Json[] = [];
  const chunk = (index: number, delta: Json, finishReason: string | null = null, logprobs: unknown = null) =>
    out.push({
      ...base,
      choices: [{ index, delta, logprobs, finish_reason: finishReason }],
      ...(includeUsage ? { usage: null } : {}),
    });

  for (const c of (completion.choices as Json[]) ?? []) {
    const index = Number(c.index ?? 0);
    const m = (c.message ?? {}) as Json;
    const toolCalls = (m.tool_calls as Json[] | undefined) ?? [];
    const lp = c.logprobs as { content?: unknown[] | null; refusal?: unknown[] | null } | null;
    if (toolCalls.length) {
      chunk(index, { role: m.role ?? 'assistant', content: m.content ?? null });
      toolCalls.forEach((t, i) => chunk(index, { tool_calls: [{ index: i, ...t }] }));
    } else if (typeof m.refusal === 'string') {
      chunk(index, { role: m.role ?? 'assistant', refusal: '' });
      chunk(index, { refusal: m.refusal }, null, lp ? { content: null, refusal: lp.refusal ?? null } : null);
    } else {
      chunk(index, { role: m.role ?? 'assistant', content: '', refusal: null });
      // Log probabilities ride with the first piece: the SDK concatenates them across chunks.
      splitForReplay(typeof m.content === 'string' ? m.content : '').forEach((piece, i) =>
        chunk(index, { content: piece }, null, i === 0 && lp ? { content: lp.content ?? null, refusal: null } : null)
      );
    }
    chunk(index, {}, (c.finish_reason as string | null) ?? 'stop');
  }
  if (includeUsage) out.push({ ...base, choices: [], usage: completion.usage ?? null });
  return out;
}
