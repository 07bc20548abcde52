// ai-gateway against the floor, through the OpenAI wire format: chat completion hits (1 and 32
// clients, distinct keys and one hot key), embedding hits, miss overhead over the model's own
// latency, and single-flight under 100 identical misses.
// Part of `npm run bench` (section `gateway`: `npm run bench -- gateway` runs it alone).
import OpenAI from 'openai';
import {
  adminSql,
  createCompany,
  createUser,
  FUNCTIONS_URL,
  marker,
  OPENAI_BASE_URL,
  simCalls,
} from '../test/helpers/stack.ts';
import { simLatency, startFloorServer } from './chat.ts';
import { type LoadResult, percentile, runLoad } from './load.ts';

export interface GatewayBench {
  floor_1: LoadResult;
  floor_32: LoadResult;
  chat_hit_distinct_1: LoadResult;
  chat_hit_distinct_32: LoadResult;
  chat_hit_hot_32: LoadResult;
  embeddings_hit_32: LoadResult;
  miss: { model_latency_ms: number; model_p50_ms: number; miss_p50_ms: number; overhead_p50_ms: number };
  single_flight: { concurrent: number; upstream_calls: number };
}

export async function benchGateway(opts: { requests1?: number; requests32?: number } = {}): Promise<GatewayBench> {
  const n1 = opts.requests1 ?? 400;
  const n32 = opts.requests32 ?? 3000;
  const user = await createUser('bench-gw');
  const company = await createCompany([[user, 'member']]);
  const run = marker('bench-gw');
  const KEYS = 64;
  const base = `${FUNCTIONS_URL}/ai-gateway/v1`;
  const headers = { authorization: `Bearer ${user.jwt}`, 'x-company-id': company };
  const chatBody = (i: number) =>
    JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `${run} question ${i}` }] });
  const embeddingsBody = (i: number) =>
    JSON.stringify({
      model: 'text-embedding-3-small',
      input: [`${run} line ${i}`, `${run} line ${i + 1}`],
      dimensions: 256,
    });
  const post = (url: string, body: string) =>
    fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
  for (let i = 0; i < KEYS; i++) {
    await (await post(`${base}/chat/completions`, chatBody(i))).text();
    await (await post(`${base}/embeddings`, embeddingsBody(i))).text();
  }
  const isHit = (status: number, _b: string, h: Record<string, unknown>) => status === 200 && h['x-cache'] === 'HIT';

  const floor = await startFloorServer();
  const [{ id }] = await adminSql()`select id from public.ai_cache where company_id = ${company} limit 1`;
  const floorTarget = { url: `${floor.url}/?id=${id}` };
  const result: Partial<GatewayBench> = {};
  try {
    result.floor_1 = await runLoad(floorTarget, { concurrency: 1, requests: n1 * 2 });
    result.floor_32 = await runLoad(floorTarget, { concurrency: 32, requests: n32 * 2 });
  } finally {
    floor.stop();
  }
  const chat = (body: (i: number) => string) => ({ url: `${base}/chat/completions`, headers, body, ok: isHit });
  result.chat_hit_distinct_1 = await runLoad(chat((i) => chatBody(i % KEYS)), { concurrency: 1, requests: n1 });
  result.chat_hit_distinct_32 = await runLoad(chat((i) => chatBody(i % KEYS)), { concurrency: 32, requests: n32 });
  result.chat_hit_hot_32 = await runLoad(chat(() => chatBody(0)), { concurrency: 32, requests: n32 });
  result.embeddings_hit_32 = await runLoad({
    url: `${base}/embeddings`,
    headers,
    body: (i) => embeddingsBody(i % KEYS),
    ok: isHit,
  }, { concurrency: 32, requests: n32 });

  const MODEL_MS = 50;
  await simLatency(MODEL_MS);
  try {
    const direct = new OpenAI({ apiKey: 'sk-bench', baseURL: OPENAI_BASE_URL, maxRetries: 0 });
    const gateway = new OpenAI({
      apiKey: user.jwt,
      baseURL: base,
      defaultHeaders: { 'X-Company-Id': company },
      maxRetries: 0,
    });
    const straight: number[] = [];
    const misses: number[] = [];
    for (let i = 0; i < 60; i++) {
      const t0 = performance.now();
      await direct.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: `${run} direct ${i}` }],
      });
      straight.push(performance.now() - t0);
      const t1 = performance.now();
      const { response } = await gateway.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: `${run} miss ${i}` }],
      }).withResponse();
      if (response.headers.get('x-cache') !== 'MISS') {
        throw new Error(`expected a miss, got ${response.headers.get('x-cache')}`);
      }
      misses.push(performance.now() - t1);
    }
    straight.sort((a, b) => a - b);
    misses.sort((a, b) => a - b);
    result.miss = {
      model_latency_ms: MODEL_MS,
      model_p50_ms: percentile(straight, 50),
      miss_p50_ms: percentile(misses, 50),
      overhead_p50_ms: percentile(misses, 50) - percentile(straight, 50),
    };
    const flight = `${run} single flight`;
    await Promise.all(
      Array.from(
        { length: 100 },
        () =>
          post(`${base}/chat/completions`, chatBody(-1).replace(`${run} question -1`, flight)).then((r) => r.text()),
      ),
    );
    result.single_flight = { concurrent: 100, upstream_calls: await simCalls(flight) };
  } finally {
    await simLatency(0);
  }
  return result as GatewayBench;
}

const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

export function gatewayReport(g: GatewayBench): string[] {
  const row = (name: string, r: LoadResult, floor?: LoadResult) =>
    `| ${name.padEnd(30)} | ${f(r.p50_ms).padStart(7)} | ${f(r.p99_ms).padStart(7)} | ${f(r.rps, 0).padStart(7)} | ${
      String(r.errors).padStart(4)
    } | ` +
    (floor ? `${f(r.p50_ms / floor.p50_ms, 1)}× floor p50, ${f((100 * r.rps) / floor.rps, 0)}% floor req/s` : '');
  return [
    '',
    '## ai-gateway (OpenAI wire format) against the one-hop floor',
    '',
    '| target                         | p50 ms  | p99 ms  |  req/s  | errs | vs floor',
    '|--------------------------------|---------|---------|---------|------|---------',
    row('floor (HTTP + PK read), 1', g.floor_1),
    row('floor (HTTP + PK read), 32', g.floor_32),
    row('chat hit, distinct keys, 1', g.chat_hit_distinct_1, g.floor_1),
    row('chat hit, distinct keys, 32', g.chat_hit_distinct_32, g.floor_32),
    row('chat hit, one hot key, 32', g.chat_hit_hot_32, g.floor_32),
    row('embeddings hit (2 items), 32', g.embeddings_hit_32, g.floor_32),
    '',
    `miss overhead over the model's own latency: ${f(g.miss.overhead_p50_ms)} ms p50 (model ${
      f(g.miss.model_p50_ms)
    } ms direct, ${f(g.miss.miss_p50_ms)} ms through ai-gateway; target ≤ 3 ms)`,
    `single-flight: ${g.single_flight.concurrent} concurrent identical misses → ${g.single_flight.upstream_calls} upstream call(s) (target 1)`,
  ];
}
