// ai-chat against the floor: cache hits (1 and 32 clients, distinct keys and one hot key),
// miss overhead over the model's own latency, and single-flight under 100 identical misses.
import { spawn } from 'node:child_process';
import path from 'node:path';
import OpenAI from 'openai';
import { ROOT } from '../src/stack/config.ts';
import {
  adminSql,
  createCompany,
  createUser,
  DB_URL,
  FUNCTIONS_URL,
  marker,
  OPENAI_BASE_URL,
  SIM_ORIGIN,
  simCalls,
} from '../test/helpers/stack.ts';
import { type LoadResult, percentile, runLoad } from './load.ts';

export interface ChatBench {
  floor_1: LoadResult;
  floor_32: LoadResult;
  hit_distinct_1: LoadResult;
  hit_distinct_32: LoadResult;
  hit_hot_1: LoadResult;
  hit_hot_32: LoadResult;
  miss: { model_p50_ms: number; miss_p50_ms: number; overhead_p50_ms: number; model_latency_ms: number };
  single_flight: { concurrent: number; upstream_calls: number };
}

export async function startFloorServer(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/floor-server.ts')], {
    env: { ...process.env, SUPABASE_DB_URL: DB_URL },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<string>((resolve) =>
    child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()))
  );
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

export async function simLatency(ms: number) {
  await fetch(`${SIM_ORIGIN}/_sim/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ latencyMs: ms }),
  });
}

export async function benchChat(opts: { requests1?: number; requests32?: number } = {}): Promise<ChatBench> {
  const n1 = opts.requests1 ?? 400;
  const n32 = opts.requests32 ?? 3000;
  const user = await createUser('bench');
  const company = await createCompany([[user, 'member']]);
  const run = marker('bench');
  const KEYS = 64;
  const headers = { authorization: `Bearer ${user.jwt}` };
  const ask = (message: string) =>
    fetch(`${FUNCTIONS_URL}/ai-chat`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ company_id: company, message }),
    });
  for (let i = 0; i < KEYS; i++) await (await ask(`${run} question ${i}`)).text();
  const isHit = (status: number, _b: string, h: Record<string, unknown>) => status === 200 && h['x-cache'] === 'HIT';

  const floor = await startFloorServer();
  const [{ id }] = await adminSql()`select id from public.ai_cache where company_id = ${company} limit 1`;
  const floorTarget = { url: `${floor.url}/?id=${id}` };
  const distinct = {
    url: `${FUNCTIONS_URL}/ai-chat`,
    headers,
    body: (i: number) => JSON.stringify({ company_id: company, message: `${run} question ${i % KEYS}` }),
    ok: isHit,
  };
  const hot = {
    url: `${FUNCTIONS_URL}/ai-chat`,
    headers,
    body: () => JSON.stringify({ company_id: company, message: `${run} question 0` }),
    ok: isHit,
  };

  const result: Partial<ChatBench> = {};
  try {
    result.floor_1 = await runLoad(floorTarget, { concurrency: 1, requests: n1 * 2 });
    result.floor_32 = await runLoad(floorTarget, { concurrency: 32, requests: n32 * 2 });
  } finally {
    floor.stop();
  }
  result.hit_distinct_1 = await runLoad(distinct, { concurrency: 1, requests: n1 });
  result.hit_distinct_32 = await runLoad(distinct, { concurrency: 32, requests: n32 });
  result.hit_hot_1 = await runLoad(hot, { concurrency: 1, requests: n1 });
  result.hit_hot_32 = await runLoad(hot, { concurrency: 32, requests: n32 });

  // Miss overhead: the same simulated latency measured straight through the SDK and through ai-chat.
  const MODEL_MS = 50;
  await simLatency(MODEL_MS);
  try {
    const openai = new OpenAI({ apiKey: 'sk-bench', baseURL: OPENAI_BASE_URL, maxRetries: 0 });
    const direct: number[] = [];
    const misses: number[] = [];
    for (let i = 0; i < 60; i++) {
      const t0 = performance.now();
      await openai.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: `${run} direct ${i}` }],
      });
      direct.push(performance.now() - t0);
      const t1 = performance.now();
      const res = await ask(`${run} miss ${i}`);
      await res.text();
      if (res.headers.get('x-cache') !== 'MISS') throw new Error(`expected a miss, got ${res.headers.get('x-cache')}`);
      misses.push(performance.now() - t1);
    }
    direct.sort((a, b) => a - b);
    misses.sort((a, b) => a - b);
    result.miss = {
      model_latency_ms: MODEL_MS,
      model_p50_ms: percentile(direct, 50),
      miss_p50_ms: percentile(misses, 50),
      overhead_p50_ms: percentile(misses, 50) - percentile(direct, 50),
    };

    const flight = `${run} single flight`;
    const answers = await Promise.all(Array.from({ length: 100 }, () => ask(flight).then((r) => r.text())));
    if (answers.length !== 100) throw new Error('lost answers');
    result.single_flight = { concurrent: 100, upstream_calls: await simCalls(flight) };
  } finally {
    await simLatency(0);
  }
  return result as ChatBench;
}
