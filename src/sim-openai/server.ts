/**
 * Simulated OpenAI-compatible HTTP server, so tests and local dev exercise the real `openai` SDK
 * without network access.
 *
 * Model endpoints (need any `Authorization: Bearer …`): POST /v1/chat/completions,
 * POST /v1/embeddings, GET /v1/models[/id]. Answers are pure functions of the request.
 * Latency: every model request waits `latencyMs` before answering; streams wait before their
 * first chunk and then send all chunks at once.
 *
 * Control endpoints (no auth): GET /_sim/stats[?match=substr], GET|POST|DELETE /_sim/faults,
 * GET|POST /_sim/config {latencyMs}, POST /_sim/reset, GET /_sim/health.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { answerChoices, type CompletionMeta, type LogprobOptions, toChunks, toCompletion } from './chat-answer.ts';
import { type ChatRequest, lastUserMessage, validateChatRequest } from './chat-request.ts';
import { type EmbeddingRequest, embeddingResponse, embeddingTexts, validateEmbeddingRequest } from './embeddings.ts';
import { type Fault, FaultParseError, FaultQueue, statusFaultError } from './faults.ts';
import { BodyTooLargeError, hasBearerToken, readBody, sendJson, sendOpenAIError, sleep } from './http-io.ts';
import { modelList, SIM_MODELS } from './models.ts';
import { SimStats } from './stats.ts';

export interface SimOpenAIOptions {
  /** 0 = ephemeral port. */
  port?: number;
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** Delay before each model answer; defaults to env SIM_OPENAI_LATENCY_MS, else 0. */
  latencyMs?: number;
}

export interface SimOpenAI {
  /** OpenAI SDK baseURL, ending in /v1. */
  url: string;
  /** Scheme, host and port, for the /_sim control endpoints. */
  origin: string;
  close(): Promise<void>;
}

interface SimState {
  latencyMs: number;
  readonly initialLatencyMs: number;
  readonly faults: FaultQueue;
  readonly stats: SimStats;
  nextId: number;
}

/** Keep-alive must outlast client pools (undici keeps idle sockets ~4s) to avoid reuse-after-close resets. */
const KEEP_ALIVE_TIMEOUT_MS = 30_000;
const ID_PREFIX = randomBytes(4).toString('hex');

export async function startSimOpenAI(opts: SimOpenAIOptions = {}): Promise<SimOpenAI> {
  const host = opts.host ?? '127.0.0.1';
  const latencyMs = opts.latencyMs ?? latencyFromEnv();
  const state: SimState = {
    latencyMs,
    initialLatencyMs: latencyMs,
    faults: new FaultQueue(),
    stats: new SimStats(),
    nextId: 0,
  };

  const server = createServer({ keepAlive: true, noDelay: true }, (req, res) => {
    route(state, req, res).catch((err: unknown) => {
      if (err instanceof BodyTooLargeError) {
        sendOpenAIError(res, 413, { message: err.message, type: 'invalid_request_error' });
        return;
      }
      sendOpenAIError(res, 500, { message: `Simulator failure: ${String(err)}`, type: 'server_error' });
    });
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 5_000;

  await listen(server, opts.port ?? 0, host);
  const { port } = server.address() as AddressInfo;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url: `${origin}/v1`,
    origin,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // In-flight requests (e.g. long delay faults) are cut so close() never hangs on them.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function latencyFromEnv(): number {
  const value = Number(process.env.SIM_OPENAI_LATENCY_MS);
  return Number.isFinite(value) && value > 0 ? value : 0;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function route(state: SimState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = (q === -1 ? url : url.slice(0, q)).replace(/\/+$/, '') || '/';
  const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
  const method = req.method ?? 'GET';

  switch (`${method} ${path}`) {
    case 'POST /v1/chat/completions':
      return handleChat(state, req, res);
    case 'POST /v1/embeddings':
      return handleEmbeddings(state, req, res);
    case 'GET /v1/models':
      return withAuth(req, res, () => sendJson(res, 200, modelList()));
    case 'GET /_sim/stats':
      return sendJson(res, 200, {
        ...state.stats.snapshot(query.get('match') ?? undefined),
        ...simStatus(state, query.get('match')),
      });
    case 'GET /_sim/faults':
      return sendJson(res, 200, { faults: state.faults.pending() });
    case 'POST /_sim/faults':
      return handleEnqueueFaults(state, req, res);
    case 'DELETE /_sim/faults':
      state.faults.clear();
      return sendJson(res, 200, { faults: [] });
    case 'GET /_sim/config':
      return sendJson(res, 200, { latencyMs: state.latencyMs });
    case 'POST /_sim/config':
      return handleConfig(state, req, res);
    case 'POST /_sim/reset':
      state.stats.reset();
      state.faults.clear();
      state.latencyMs = state.initialLatencyMs;
      return sendJson(res, 200, { ok: true, latencyMs: state.latencyMs });
    case 'GET /_sim/health':
      return sendJson(res, 200, { ok: true });
  }
  if (method === 'GET' && path.startsWith('/v1/models/')) {
    const id = decodeURIComponent(path.slice('/v1/models/'.length));
    const model = SIM_MODELS.find((m) => m.id === id);
    return withAuth(
      req,
      res,
      () =>
        model ? sendJson(res, 200, model) : sendOpenAIError(res, 404, {
          message: `The model '${id}' does not exist`,
          type: 'invalid_request_error',
          param: 'model',
          code: 'model_not_found',
        }),
    );
  }
  sendOpenAIError(res, 404, { message: `Invalid URL (${method} ${path})`, type: 'invalid_request_error' });
}

function simStatus(state: SimState, match: string | null) {
  return {
    latency_ms: state.latencyMs,
    pending_faults: state.faults.pending().length,
    ...(match !== null ? { match } : {}),
  };
}

function withAuth(req: IncomingMessage, res: ServerResponse, then: () => void): void {
  if (hasBearerToken(req)) then();
  else sendUnauthorized(res);
}

function sendUnauthorized(res: ServerResponse): void {
  sendOpenAIError(res, 401, {
    message:
      "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    type: 'invalid_request_error',
  });
}

function sendInvalidJson(res: ServerResponse): void {
  sendOpenAIError(res, 400, {
    message:
      'We could not parse the JSON body of your request. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.',
    type: 'invalid_request_error',
  });
}

function parseJson(raw: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch {
    return { ok: false };
  }
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

async function handleChat(state: SimState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const parsed = parseJson(await readBody(req));
  const body = asRecord(parsed.ok ? parsed.value : undefined);
  const lastUser = lastUserMessage(body.messages);
  const stream = body.stream === true;
  // Recorded before any validation: stats count every chat request received, rejected or not.
  const record = state.stats.record('chat', typeof body.model === 'string' ? body.model : 'unknown', lastUser, stream);

  if (!hasBearerToken(req)) return sendUnauthorized(res);
  if (!parsed.ok) return sendInvalidJson(res);
  const invalid = validateChatRequest(parsed.value);
  if (invalid) return sendOpenAIError(res, 400, invalid);

  const fault = state.faults.take(lastUser);
  if (fault) state.stats.markFaulted(record);
  const wait = state.latencyMs + (fault?.type === 'delay' ? fault.ms : 0);
  if (wait > 0) {
    await sleep(wait, abortWhenGone(res));
    if (res.destroyed) return;
  }

  if (fault && applyTerminalFault(fault, req, res, stream)) return;

  const chatReq = parsed.value as ChatRequest;
  const answer = answerChoices(chatReq);
  const logprobs: LogprobOptions = {
    logprobs: chatReq.logprobs === true,
    top_logprobs: typeof chatReq.top_logprobs === 'number' ? chatReq.top_logprobs : null,
  };
  const meta: CompletionMeta = {
    id: `chatcmpl-sim${ID_PREFIX}${(state.nextId++).toString(36)}`,
    created: Math.floor(Date.now() / 1000),
    model: chatReq.model,
  };
  const headers = { 'x-request-id': `req_sim_${meta.id.slice(12)}` };
  if (!stream) {
    sendJson(res, 200, toCompletion(answer, meta, logprobs), headers);
    state.stats.markOk(record);
    return;
  }
  const chunks = toChunks(answer, meta, chatReq.stream_options?.include_usage === true, logprobs);
  const cutAfter = fault?.type === 'cut_stream' ? fault.afterChunks : undefined;
  if (writeSse(res, chunks, cutAfter, headers)) state.stats.markOk(record);
}

/** Answers (or kills) the request for faults that replace the normal answer; false when it should proceed. */
function applyTerminalFault(fault: Fault, req: IncomingMessage, res: ServerResponse, stream: boolean): boolean {
  switch (fault.type) {
    case 'status':
      sendOpenAIError(
        res,
        fault.status,
        statusFaultError(fault),
        fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {},
      );
      return true;
    case 'malformed':
      if (stream) {
        res.writeHead(200, SSE_HEADERS);
        res.end(
          'data: {"id":"chatcmpl-sim-malformed","object":"chat.completion.chunk","choices":[{"delta":{"content":"tru\n\ndata: [DONE]\n\n',
        );
      } else {
        const broken =
          '{"id":"chatcmpl-sim-malformed","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"tru';
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(broken) });
        res.end(broken);
      }
      return true;
    case 'cut_stream':
      if (stream) return false;
      req.socket.destroy();
      return true;
    case 'delay':
      return false;
  }
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
};

/**
 * Writes the whole stream at once (latency is applied before the first chunk). With `cutAfter`,
 * only that many events are flushed, then the socket is destroyed so the chunked body never
 * terminates and the client sees a mid-stream network failure. Returns true when completed.
 */
function writeSse(
  res: ServerResponse,
  chunks: object[],
  cutAfter: number | undefined,
  headers: Record<string, string>,
): boolean {
  res.writeHead(200, { ...SSE_HEADERS, ...headers });
  let payload = '';
  const limit = cutAfter === undefined ? chunks.length : Math.min(cutAfter, chunks.length);
  for (let i = 0; i < limit; i++) payload += `data: ${JSON.stringify(chunks[i])}\n\n`;
  if (cutAfter === undefined) {
    res.end(`${payload}data: [DONE]\n\n`);
    return true;
  }
  // An SSE comment keeps the write non-empty so headers reach the client even for afterChunks 0.
  res.write(payload || ': cut\n\n', () => res.socket?.destroy());
  return false;
}

function abortWhenGone(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => controller.abort());
  return controller.signal;
}

async function handleEmbeddings(state: SimState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const parsed = parseJson(await readBody(req));
  const body = asRecord(parsed.ok ? parsed.value : undefined);
  const invalid = parsed.ok ? validateEmbeddingRequest(parsed.value) : null;
  const text = parsed.ok && !invalid ? embeddingTexts((parsed.value as EmbeddingRequest).input).join('\n') : '';
  state.stats.record('embeddings', typeof body.model === 'string' ? body.model : 'unknown', text, false);

  if (!hasBearerToken(req)) return sendUnauthorized(res);
  if (!parsed.ok) return sendInvalidJson(res);
  if (invalid) return sendOpenAIError(res, 400, invalid);
  if (state.latencyMs > 0) {
    await sleep(state.latencyMs, abortWhenGone(res));
    if (res.destroyed) return;
  }
  sendJson(res, 200, embeddingResponse(parsed.value as EmbeddingRequest));
}

async function handleEnqueueFaults(state: SimState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const parsed = parseJson(await readBody(req));
  if (!parsed.ok) return sendInvalidJson(res);
  try {
    const queued = state.faults.enqueue(parsed.value);
    sendJson(res, 200, { queued, pending: state.faults.pending().length });
  } catch (err) {
    if (!(err instanceof FaultParseError)) throw err;
    sendOpenAIError(res, 400, { message: err.message, type: 'invalid_request_error', param: 'faults' });
  }
}

async function handleConfig(state: SimState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const parsed = parseJson(await readBody(req));
  if (!parsed.ok) return sendInvalidJson(res);
  const latency = asRecord(parsed.value).latencyMs;
  if (latency !== undefined) {
    if (typeof latency !== 'number' || !Number.isFinite(latency) || latency < 0) {
      return sendOpenAIError(res, 400, {
        message: 'latencyMs must be a non-negative number',
        type: 'invalid_request_error',
        param: 'latencyMs',
      });
    }
    state.latencyMs = latency;
  }
  sendJson(res, 200, { latencyMs: state.latencyMs });
}
