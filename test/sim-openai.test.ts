// deno-lint-ignore-file no-explicit-any -- tests read loosely typed JSON bodies
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { type SimOpenAI, startSimOpenAI } from '../src/sim-openai/server.ts';

let sim: SimOpenAI;
let client: OpenAI;

beforeAll(async () => {
  sim = await startSimOpenAI({ port: 0, latencyMs: 0 });
  client = new OpenAI({ apiKey: 'sk-test', baseURL: sim.url, maxRetries: 0 });
});

afterAll(async () => {
  await sim?.close();
});

/** Every test tags its prompts so match-scoped faults and stats never see other tests' calls. */
function ask(tag: string, text = 'What is the capital of France?') {
  return { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: `${text} <${tag}>` }] };
}

async function control(path: string, init: { method?: string; body?: unknown } = {}): Promise<any> {
  const res = await fetch(`${sim.origin}${path}`, {
    method: init.method ?? 'GET',
    ...(init.body !== undefined
      ? { body: JSON.stringify(init.body), headers: { 'content-type': 'application/json' } }
      : {}),
  });
  expect(res.ok).toBe(true);
  return res.json();
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}

describe('startSimOpenAI', () => {
  it('exposes a /v1 base URL under its origin', () => {
    expect(sim.url).toBe(`${sim.origin}/v1`);
    expect(sim.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});

describe('chat completions', () => {
  it('returns the OpenAI chat.completion shape', async () => {
    const res = await client.chat.completions.create(ask('shape'));
    expect(res.object).toBe('chat.completion');
    expect(res.id).toMatch(/^chatcmpl-/);
    expect(res.model).toBe('gpt-4o-mini');
    expect(Number.isInteger(res.created)).toBe(true);
    expect(res.choices).toHaveLength(1);
    const [choice] = res.choices;
    expect(choice!.index).toBe(0);
    expect(choice!.finish_reason).toBe('stop');
    expect(choice!.logprobs).toBeNull();
    expect(choice!.message.role).toBe('assistant');
    expect(choice!.message.refusal).toBeNull();
    expect(choice!.message.content).toMatch(
      /^Simulated answer to: What is the capital of France\? <shape> \[[0-9a-f]{8}\]$/,
    );
    expect(res.usage!.prompt_tokens).toBeGreaterThanOrEqual(1);
    expect(res.usage!.completion_tokens).toBeGreaterThanOrEqual(1);
    expect(res.usage!.total_tokens).toBe(res.usage!.prompt_tokens + res.usage!.completion_tokens);
  });

  it('answers identical requests identically and different requests differently', async () => {
    const a = await client.chat.completions.create(ask('determinism'));
    const b = await client.chat.completions.create(ask('determinism'));
    const otherModel = await client.chat.completions.create({ ...ask('determinism'), model: 'gpt-4o' });
    const otherSystem = await client.chat.completions.create({
      ...ask('determinism'),
      messages: [{ role: 'system', content: 'Be terse.' }, ...ask('determinism').messages],
    });
    expect(b.choices[0]!.message.content).toBe(a.choices[0]!.message.content);
    expect(b.usage).toEqual(a.usage);
    expect(b.id).not.toBe(a.id);
    expect(otherModel.model).toBe('gpt-4o');
    expect(otherModel.choices[0]!.message.content).not.toBe(a.choices[0]!.message.content);
    expect(otherSystem.choices[0]!.message.content).not.toBe(a.choices[0]!.message.content);
  });

  it('truncates to max_tokens with finish_reason "length"', async () => {
    const full = await client.chat.completions.create(ask('maxtokens', 'Explain the history of Rome in detail'));
    const cut = await client.chat.completions.create({
      ...ask('maxtokens', 'Explain the history of Rome in detail'),
      max_tokens: 3,
    });
    const cutNew = await client.chat.completions.create({
      ...ask('maxtokens', 'Explain the history of Rome in detail'),
      max_completion_tokens: 3,
    });
    expect(cut.choices[0]!.finish_reason).toBe('length');
    expect(cut.usage!.completion_tokens).toBe(3);
    expect(cut.choices[0]!.message.content).toHaveLength(12);
    expect(full.choices[0]!.message.content!.startsWith(cut.choices[0]!.message.content!)).toBe(true);
    expect(cutNew.choices[0]!.message.content).toBe(cut.choices[0]!.message.content);
    expect(cutNew.choices[0]!.finish_reason).toBe('length');
  });

  it('refuses when the last user message carries [[refuse]]', async () => {
    const res = await client.chat.completions.create(ask('refusal', 'Do something bad [[refuse]]'));
    const message = res.choices[0]!.message;
    expect(message.content).toBeNull();
    expect(message.refusal).toEqual(expect.any(String));
    expect(message.refusal!.length).toBeGreaterThan(0);
    expect(res.choices[0]!.finish_reason).toBe('stop');
  });

  it('returns a JSON object for response_format json_object', async () => {
    const res = await client.chat.completions.create({ ...ask('jsonobj'), response_format: { type: 'json_object' } });
    const parsed = JSON.parse(res.choices[0]!.message.content!);
    expect(typeof parsed).toBe('object');
    expect(Array.isArray(parsed)).toBe(false);
  });

  it('returns content satisfying a json_schema response_format', async () => {
    const schema = {
      type: 'object',
      properties: {
        sentiment: { type: 'string', enum: ['positive', 'neutral', 'negative'] },
        score: { type: 'integer', minimum: 3, maximum: 7 },
        confidence: { type: 'number', minimum: 0, maximum: 1 },
        summary: { type: 'string', minLength: 5, maxLength: 40 },
        flagged: { type: 'boolean' },
        tags: { type: 'array', items: { type: 'string' }, minItems: 3 },
        author: {
          type: 'object',
          properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 18, maximum: 18 } },
          required: ['name', 'age'],
          additionalProperties: false,
        },
        note: { type: ['string', 'null'] },
      },
      required: ['sentiment', 'score', 'confidence', 'summary', 'flagged', 'tags', 'author', 'note'],
      additionalProperties: false,
    };
    const request = {
      ...ask('jsonschema', 'Rate this review'),
      response_format: { type: 'json_schema' as const, json_schema: { name: 'review', strict: true, schema } },
    };
    const res = await client.chat.completions.create(request);
    const again = await client.chat.completions.create(request);
    expect(again.choices[0]!.message.content).toBe(res.choices[0]!.message.content);

    const value = JSON.parse(res.choices[0]!.message.content!);
    expect(Object.keys(value).sort()).toEqual([...schema.required].sort());
    expect(['positive', 'neutral', 'negative']).toContain(value.sentiment);
    expect(Number.isInteger(value.score)).toBe(true);
    expect(value.score).toBeGreaterThanOrEqual(3);
    expect(value.score).toBeLessThanOrEqual(7);
    expect(value.confidence).toBeGreaterThanOrEqual(0);
    expect(value.confidence).toBeLessThanOrEqual(1);
    expect(value.summary.length).toBeGreaterThanOrEqual(5);
    expect(value.summary.length).toBeLessThanOrEqual(40);
    expect(typeof value.flagged).toBe('boolean');
    expect(value.tags.length).toBeGreaterThanOrEqual(3);
    expect(value.tags.every((t: unknown) => typeof t === 'string')).toBe(true);
    expect(typeof value.author.name).toBe('string');
    expect(value.author.age).toBe(18);
    expect(typeof value.note).toBe('string');
  });

  it('satisfies zod schemas through the SDK structured-output helper', async () => {
    const Ticket = z.object({
      priority: z.enum(['low', 'medium', 'high']),
      estimate: z.number().int().min(1).max(5),
      due: z.string().datetime().nullable(),
      contact: z.string().email(),
      steps: z.array(z.object({ title: z.string(), done: z.boolean() })).min(2),
    });
    const res = await client.chat.completions.parse({
      ...ask('zod', 'Triage this ticket'),
      response_format: zodResponseFormat(Ticket, 'ticket'),
    });
    const parsed = res.choices[0]!.message.parsed;
    expect(Ticket.parse(parsed)).toEqual(parsed);
  });

  it('answers with a tool call when tools are given and the user asks via [[tool]]', async () => {
    const tools = [
      {
        type: 'function' as const,
        function: {
          name: 'get_weather',
          parameters: {
            type: 'object',
            properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
            required: ['city', 'unit'],
          },
        },
      },
    ];
    const res = await client.chat.completions.create({ ...ask('tool', 'Weather in Paris? [[tool]]'), tools });
    const choice = res.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    const call = choice.message.tool_calls![0]!;
    expect(call.type).toBe('function');
    expect(call.id).toMatch(/^call_/);
    if (call.type !== 'function') throw new Error('expected a function tool call');
    expect(call.function.name).toBe('get_weather');
    const args = JSON.parse(call.function.arguments);
    expect(typeof args.city).toBe('string');
    expect(['c', 'f']).toContain(args.unit);

    const plain = await client.chat.completions.create({ ...ask('tool', 'Weather in Paris?'), tools });
    expect(plain.choices[0]!.finish_reason).toBe('stop');
    expect(plain.choices[0]!.message.tool_calls).toBeUndefined();
  });
});

describe('streaming', () => {
  it('streams deltas through the SDK iterator that add up to the non-stream answer, with usage', async () => {
    const request = ask('stream', 'Tell me a short story about a lighthouse keeper');
    const whole = await client.chat.completions.create(request);
    const stream = await client.chat.completions.create({
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    });

    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);

    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    const contentChunks = chunks.filter((c) => c.choices[0]?.delta.content);
    expect(contentChunks.length).toBeGreaterThan(2);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(whole.choices[0]!.message.content);

    const usageChunk = chunks[chunks.length - 1]!;
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toMatchObject({
      prompt_tokens: whole.usage!.prompt_tokens,
      completion_tokens: whole.usage!.completion_tokens,
      total_tokens: whole.usage!.total_tokens,
    });
    const finishChunk = chunks[chunks.length - 2]!;
    expect(finishChunk.choices[0]!.finish_reason).toBe('stop');
  });

  it('omits the usage chunk without include_usage', async () => {
    const stream = await client.chat.completions.create({ ...ask('stream-nousage'), stream: true });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
    expect(chunks[chunks.length - 1]!.choices[0]!.finish_reason).toBe('stop');
  });

  it('works with the SDK stream helper for refusals, json_schema and tool calls', async () => {
    const refusal = await client.chat.completions.stream(ask('stream-helper', 'Bad idea [[refuse]]'))
      .finalChatCompletion();
    expect(refusal.choices[0]!.message.refusal).toEqual(expect.any(String));
    expect(refusal.choices[0]!.message.content).toBeNull();

    const Answer = z.object({ answer: z.string(), score: z.number().int().min(0).max(10) });
    const structured = await client.chat.completions
      .stream({ ...ask('stream-helper', 'Score it'), response_format: zodResponseFormat(Answer, 'answer') })
      .finalChatCompletion();
    expect(Answer.parse(structured.choices[0]!.message.parsed)).toBeTruthy();

    const tool = await client.chat.completions
      .stream({
        ...ask('stream-helper', 'Look it up [[tool]]'),
        tools: [{
          type: 'function',
          function: {
            name: 'lookup',
            parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] },
          },
        }],
      })
      .finalChatCompletion();
    expect(tool.choices[0]!.finish_reason).toBe('tool_calls');
    const call = tool.choices[0]!.message.tool_calls![0]!;
    if (call.type !== 'function') throw new Error('expected a function tool call');
    expect(JSON.parse(call.function.arguments)).toEqual({ q: expect.any(String) });
  });
});

describe('embeddings', () => {
  const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);

  it('returns deterministic unit vectors with 1536 dims by default', async () => {
    const res = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello world' });
    const again = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello world' });
    expect(res.object).toBe('list');
    expect(res.model).toBe('text-embedding-3-small');
    expect(res.data).toHaveLength(1);
    expect(res.data[0]!.object).toBe('embedding');
    expect(res.data[0]!.index).toBe(0);
    const vector = Array.from(res.data[0]!.embedding);
    expect(vector).toHaveLength(1536);
    expect(norm(vector)).toBeCloseTo(1, 4);
    expect(Array.from(again.data[0]!.embedding)).toEqual(vector);
    expect(res.usage.prompt_tokens).toBeGreaterThanOrEqual(1);
    expect(res.usage.total_tokens).toBe(res.usage.prompt_tokens);
  });

  it('honours dimensions and array input, with float and base64 encodings agreeing', async () => {
    const input = ['What is the capital of France?', 'what is the capital of france', 'banana bread recipe'];
    const floats = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input,
      dimensions: 256,
      encoding_format: 'float',
    });
    const decoded = await client.embeddings.create({ model: 'text-embedding-3-small', input, dimensions: 256 });
    expect(floats.data.map((d) => d.index)).toEqual([0, 1, 2]);
    const vectors = floats.data.map((d) => d.embedding);
    expect(vectors.every((v) => v.length === 256)).toBe(true);
    expect(decoded.data.map((d) => Array.from(d.embedding))).toEqual(vectors);
    // Similar wording must look similar and unrelated text must not, so semantic caching can be exercised.
    expect(dot(vectors[0]!, vectors[1]!)).toBeGreaterThan(0.85);
    expect(dot(vectors[0]!, vectors[2]!)).toBeLessThan(0.4);
  });
});

describe('models', () => {
  it('lists the simulated models', async () => {
    const page = await client.models.list();
    const ids = page.data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['gpt-4o-mini', 'gpt-4o', 'gpt-4.1-mini', 'text-embedding-3-small']));
    expect(page.data.every((m) => m.object === 'model')).toBe(true);
  });
});

describe('protocol errors', () => {
  it('rejects requests without a bearer token with a 401 OpenAI error', async () => {
    const res = await fetch(`${sim.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ask('noauth')),
    });
    expect(res.status).toBe(401);
    const body = await res.json();
    expect(body).toEqual({
      error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: null },
    });
  });

  it('rejects invalid JSON with a 400 OpenAI error', async () => {
    const res = await fetch(`${sim.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' },
      body: '{"model": "gpt-4o-mini", "messages": [',
    });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error).toMatchObject({ type: 'invalid_request_error', param: null, code: null });
    expect(body.error.message).toEqual(expect.any(String));
  });

  it('maps a missing model to an SDK BadRequestError', async () => {
    const err = await caught(client.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }] } as never));
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('answers unknown routes with a 404 JSON error', async () => {
    const res = await fetch(`${sim.url}/does-not-exist`, { headers: { authorization: 'Bearer sk-test' } });
    expect(res.status).toBe(404);
    expect((await res.json()).error.message).toContain('/v1/does-not-exist');
  });
});

describe('fault injection', () => {
  it('serves a 429 with retry-after that the SDK surfaces as a RateLimitError', async () => {
    await control('/_sim/faults', {
      method: 'POST',
      body: { faults: [{ type: 'status', status: 429, count: 2, retryAfter: 1, match: '<f429>' }] },
    });
    for (let i = 0; i < 2; i++) {
      const err = await caught(client.chat.completions.create(ask('f429')));
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
      const apiErr = err as InstanceType<typeof OpenAI.APIError>;
      expect(apiErr.status).toBe(429);
      expect(apiErr.headers?.get('retry-after')).toBe('1');
      expect(apiErr.code).toBe('rate_limit_exceeded');
    }
    const ok = await client.chat.completions.create(ask('f429'));
    expect(ok.choices[0]!.finish_reason).toBe('stop');

    const stats = await control(`/_sim/stats?match=${encodeURIComponent('<f429>')}`);
    expect(stats).toMatchObject({ chat_completions: 3, chat_completions_ok: 1, faults_served: 2 });
  });

  it('lets the SDK retry after a 429 when retries are enabled', async () => {
    await control('/_sim/faults', {
      method: 'POST',
      body: { type: 'status', status: 429, retryAfter: 0, match: '<fretry>' },
    });
    const retrying = new OpenAI({ apiKey: 'sk-test', baseURL: sim.url, maxRetries: 2 });
    const res = await retrying.chat.completions.create(ask('fretry'));
    expect(res.choices[0]!.message.content).toContain('<fretry>');
    const stats = await control(`/_sim/stats?match=${encodeURIComponent('<fretry>')}`);
    expect(stats).toMatchObject({ chat_completions: 2, chat_completions_ok: 1, faults_served: 1 });
  });

  it('serves a 500 as an SDK InternalServerError', async () => {
    await control('/_sim/faults', { method: 'POST', body: { type: 'status', status: 500, match: '<f500>' } });
    const err = await caught(client.chat.completions.create(ask('f500')));
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(500);
  });

  it('serves a malformed JSON body that makes the SDK throw', async () => {
    await control('/_sim/faults', { method: 'POST', body: { type: 'malformed', match: '<fmalformed>' } });
    const err = await caught(client.chat.completions.create(ask('fmalformed')));
    expect(err).toBeInstanceOf(SyntaxError);
  });

  it('serves malformed SSE that makes SDK stream iteration throw', async () => {
    await control('/_sim/faults', { method: 'POST', body: { type: 'malformed', match: '<fmalformed-sse>' } });
    // The SDK logs unparsable events before throwing; silence it to keep test output clean.
    const quiet = new OpenAI({ apiKey: 'sk-test', baseURL: sim.url, maxRetries: 0, logLevel: 'off' });
    const stream = await quiet.chat.completions.create({ ...ask('fmalformed-sse'), stream: true });
    const err = await caught((async () => {
      for await (const _ of stream) void _;
    })());
    expect(err).toBeInstanceOf(Error);
  });

  it('cuts a stream midway so SDK iteration throws after the first chunks', async () => {
    await control('/_sim/faults', { method: 'POST', body: { type: 'cut_stream', afterChunks: 2, match: '<fcut>' } });
    const stream = await client.chat.completions.create({ ...ask('fcut'), stream: true });
    const received: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    const err = await caught((async () => {
      for await (const chunk of stream) received.push(chunk);
    })());
    expect(err).toBeInstanceOf(Error);
    expect(received).toHaveLength(2);
    expect(received[0]!.choices[0]!.delta.role).toBe('assistant');
  });

  it('drops the connection for cut_stream on a non-streamed request', async () => {
    await control('/_sim/faults', { method: 'POST', body: { type: 'cut_stream', match: '<fcut-plain>' } });
    const err = await caught(client.chat.completions.create(ask('fcut-plain')));
    expect(err).toBeInstanceOf(OpenAI.APIConnectionError);
  });

  it('delays an answer by the fault delay', async () => {
    await control('/_sim/faults', { method: 'POST', body: { type: 'delay', ms: 200, match: '<fdelay>' } });
    const started = performance.now();
    const res = await client.chat.completions.create(ask('fdelay'));
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(res.choices[0]!.finish_reason).toBe('stop');
    const stats = await control(`/_sim/stats?match=${encodeURIComponent('<fdelay>')}`);
    expect(stats).toMatchObject({ chat_completions: 1, chat_completions_ok: 1, faults_served: 1 });
  });

  it('applies queued faults to successive requests in order', async () => {
    await control('/_sim/faults', {
      method: 'POST',
      body: {
        faults: [{ type: 'status', status: 503, match: '<forder>' }, {
          type: 'status',
          status: 400,
          match: '<forder>',
        }],
      },
    });
    expect(await caught(client.chat.completions.create(ask('forder')))).toMatchObject({ status: 503 });
    expect(await caught(client.chat.completions.create(ask('forder')))).toMatchObject({ status: 400 });
    expect((await client.chat.completions.create(ask('forder'))).choices).toHaveLength(1);
  });

  it('leaves match-scoped faults for the requests they match', async () => {
    await control('/_sim/faults', { method: 'POST', body: { type: 'status', status: 500, match: '<fscoped-target>' } });
    const bystander = await client.chat.completions.create(ask('fscoped-bystander'));
    expect(bystander.choices[0]!.finish_reason).toBe('stop');
    const pending = await control('/_sim/faults');
    expect(pending.faults).toContainEqual({
      fault: { type: 'status', status: 500 },
      remaining: 1,
      match: '<fscoped-target>',
    });
    expect(await caught(client.chat.completions.create(ask('fscoped-target')))).toBeInstanceOf(
      OpenAI.InternalServerError,
    );
  });

  it('rejects unknown fault types', async () => {
    const res = await fetch(`${sim.origin}/_sim/faults`, { method: 'POST', body: JSON.stringify({ type: 'explode' }) });
    expect(res.status).toBe(400);
  });
});

describe('stats', () => {
  it('counts chat, stream and embedding requests, globally and per match', async () => {
    const before = await control('/_sim/stats');
    await client.chat.completions.create(ask('stats'));
    const stream = await client.chat.completions.create({ ...ask('stats'), model: 'gpt-4o', stream: true });
    for await (const _ of stream) void _;
    await client.embeddings.create({ model: 'text-embedding-3-small', input: 'embed me <stats>' });
    const after = await control('/_sim/stats');
    expect(after.chat_completions - before.chat_completions).toBe(2);
    expect(after.embeddings - before.embeddings).toBe(1);

    const mine = await control(`/_sim/stats?match=${encodeURIComponent('<stats>')}`);
    expect(mine).toMatchObject({
      chat_completions: 2,
      chat_completions_ok: 2,
      faults_served: 0,
      embeddings: 1,
      by_model: { 'gpt-4o-mini': 1, 'gpt-4o': 1, 'text-embedding-3-small': 1 },
    });
    expect(mine.requests).toEqual([
      {
        model: 'gpt-4o-mini',
        last_user_message: 'What is the capital of France? <stats>',
        stream: false,
        at: expect.any(String),
      },
      {
        model: 'gpt-4o',
        last_user_message: 'What is the capital of France? <stats>',
        stream: true,
        at: expect.any(String),
      },
    ]);
  });
});

describe('control endpoints on a dedicated server', () => {
  let own: SimOpenAI;
  let ownClient: OpenAI;

  beforeAll(async () => {
    own = await startSimOpenAI({ port: 0, latencyMs: 0 });
    ownClient = new OpenAI({ apiKey: 'sk-test', baseURL: own.url, maxRetries: 0 });
  });

  afterAll(async () => {
    await own?.close();
  });

  async function ownControl(path: string, method = 'GET', body?: unknown): Promise<any> {
    const res = await fetch(`${own.origin}${path}`, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    expect(res.ok).toBe(true);
    return res.json();
  }

  it('changes latency at runtime and reset restores it, zeroes counters and clears faults', async () => {
    expect(await ownControl('/_sim/config', 'POST', { latencyMs: 150 })).toEqual({ latencyMs: 150 });
    const started = performance.now();
    await ownClient.chat.completions.create(ask('latency'));
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);

    await ownControl('/_sim/faults', 'POST', { type: 'status', status: 500 });
    expect((await ownControl('/_sim/stats')).chat_completions).toBe(1);

    expect(await ownControl('/_sim/reset', 'POST')).toMatchObject({ ok: true });
    expect(await ownControl('/_sim/config')).toEqual({ latencyMs: 0 });
    const stats = await ownControl('/_sim/stats');
    expect(stats).toMatchObject({
      chat_completions: 0,
      chat_completions_ok: 0,
      faults_served: 0,
      embeddings: 0,
      by_model: {},
      requests: [],
    });
    expect((await ownControl('/_sim/faults')).faults).toEqual([]);
    const res = await ownClient.chat.completions.create(ask('after-reset'));
    expect(res.choices[0]!.finish_reason).toBe('stop');
  });

  it('DELETE /_sim/faults clears pending faults', async () => {
    await ownControl('/_sim/faults', 'POST', { faults: [{ type: 'status', status: 500, count: 3 }] });
    await ownControl('/_sim/faults', 'DELETE');
    const res = await ownClient.chat.completions.create(ask('after-clear'));
    expect(res.choices[0]!.finish_reason).toBe('stop');
  });

  it('close() returns promptly even with a request stuck in a delay fault', async () => {
    const extra = await startSimOpenAI({ port: 0 });
    await fetch(`${extra.origin}/_sim/faults`, { method: 'POST', body: JSON.stringify({ type: 'delay', ms: 60_000 }) });
    const extraClient = new OpenAI({ apiKey: 'sk-test', baseURL: extra.url, maxRetries: 0 });
    const pending = caught(extraClient.chat.completions.create(ask('stuck')));
    // The stats call resolving proves the stuck request has reached the server before close().
    await expect.poll(async () => (await (await fetch(`${extra.origin}/_sim/stats`)).json()).chat_completions).toBe(1);
    await extra.close();
    expect(await pending).toBeInstanceOf(OpenAI.APIConnectionError);
  });
});
