// Both database transports of the functions side by side (AI_CACHE_DB_TRANSPORT=postgres and
// =rest), against the one-hop floor measured in the same run: ai-suggest anonymous hits (rate
// limiter on), ai-chat hits (turn stored durably), the miss overhead over the model, database
// calls per request (from Server-Timing) and CPU per hit in every process.
import OpenAI from 'openai';
import { startApiInBackground, stopApi } from '../src/stack/processes.ts';
import {
  adminSql,
  ANON_KEY,
  createCompany,
  createUser,
  FUNCTIONS_URL,
  marker,
  OPENAI_BASE_URL,
} from '../test/helpers/stack.ts';
import { simLatency, startFloorServer } from './chat.ts';
import { cpuPerRequest, sampleCpu } from './cpu.ts';
import { type HttpTarget, type LoadResult, percentile, runLoad } from './load.ts';

export type Transport = 'postgres' | 'rest';

export interface PathResult {
  p50_1: LoadResult;
  rps_32: LoadResult;
  db_calls: number | null;
  cpu_ms_per_hit: { gateway: number; deno: number; postgres: number; total: number };
}

export interface TransportResult {
  transport: Transport;
  suggest_hit: PathResult;
  chat_hit: PathResult;
  miss: {
    model_p50_ms: number;
    suggest_p50_ms: number;
    chat_p50_ms: number;
    suggest_overhead_ms: number;
    chat_overhead_ms: number;
    db_calls_suggest: number | null;
    db_calls_chat: number | null;
  };
}

export interface TransportsBench {
  floor_1: LoadResult;
  floor_32: LoadResult;
  runs: TransportResult[];
}

const KEYS = 64;
const n1 = () => Number(process.env.BENCH_REQUESTS_1 ?? 300);
const n32 = () => Number(process.env.BENCH_REQUESTS_32 ?? 2000);

/** The API restarted with the functions reading `env` (their workers inherit the API's env). */
async function restartApi(env: Record<string, string>) {
  await stopApi();
  Object.assign(process.env, env);
  await startApiInBackground();
}

/** `rpc;dur=…;desc="<transport> x<n>"`, the entry callRpc adds: the count of database calls. */
export function dbCalls(serverTiming: string | null | undefined): number | null {
  const m = /rpc;dur=[\d.]+;desc="\w+ x(\d+)"/.exec(serverTiming ?? '');
  return m ? Number(m[1]) : null;
}

async function measurePath(target: HttpTarget, probe: () => Promise<Response>): Promise<PathResult> {
  const res = await probe();
  await res.text();
  const calls = dbCalls(res.headers.get('server-timing'));
  const p50_1 = await runLoad(target, { concurrency: 1, requests: n1() });
  const before = sampleCpu();
  const rps_32 = await runLoad(target, { concurrency: 32, requests: n32(), warmup: 0 });
  const cpu = cpuPerRequest(before, sampleCpu(), rps_32.requests);
  return { p50_1, rps_32, db_calls: calls, cpu_ms_per_hit: cpu };
}

async function runTransport(transport: Transport): Promise<TransportResult> {
  await restartApi({
    AI_CACHE_DB_TRANSPORT: transport,
    // The limiter stays on (one token taken per request) but never refuses during the bench,
    // and the bench's own X-Forwarded-For entry names the client, spreading the buckets the way
    // many visitors would (the gateway's entry is the second trusted hop).
    AI_SUGGEST_ANON_RATE_CAPACITY: '1000000000',
    AI_SUGGEST_ANON_RATE_REFILL_PER_MIN: '1000000000',
    AI_SUGGEST_TRUSTED_PROXY_HOPS: '2',
  });
  const run = marker(`bench-${transport}`);
  const visitor = (i: number) => `10.${(i >> 8) & 255}.${i & 255}.7`;
  const suggestHeaders = (i: number) => ({ authorization: `Bearer ${ANON_KEY}`, 'x-forwarded-for': visitor(i) });
  const suggestBody = (i: number) => JSON.stringify({ description_projet: `${run} site vitrine numéro ${i % KEYS}` });
  const suggest = (i: number, body = suggestBody(i)) =>
    fetch(`${FUNCTIONS_URL}/ai-suggest`, {
      method: 'POST',
      headers: { ...suggestHeaders(i), 'content-type': 'application/json' },
      body,
    });

  const user = await createUser('bench');
  const company = await createCompany([[user, 'member']]);
  const chatHeaders = { authorization: `Bearer ${user.jwt}` };
  const chatBody = (i: number) => JSON.stringify({ company_id: company, message: `${run} question ${i % KEYS}` });
  const chat = (body: string) =>
    fetch(`${FUNCTIONS_URL}/ai-chat`, {
      method: 'POST',
      headers: { ...chatHeaders, 'content-type': 'application/json' },
      body,
    });

  for (let i = 0; i < KEYS; i++) {
    await (await suggest(i)).text();
    await (await chat(chatBody(i))).text();
  }
  const isHit = (status: number, _b: string, h: Record<string, unknown>) => status === 200 && h['x-cache'] === 'HIT';

  // A fresh visitor address per request: every request pays the limiter's write, none shares a bucket row hot.
  let visitorSeq = 0;
  const suggestTarget: HttpTarget = {
    url: `${FUNCTIONS_URL}/ai-suggest`,
    get headers() {
      return suggestHeaders(visitorSeq++);
    },
    body: suggestBody,
    ok: isHit,
  };
  const chatTarget: HttpTarget = { url: `${FUNCTIONS_URL}/ai-chat`, headers: chatHeaders, body: chatBody, ok: isHit };
  const suggest_hit = await measurePath(suggestTarget, () => suggest(1));
  const chat_hit = await measurePath(chatTarget, () => chat(chatBody(1)));

  // Misses: the same simulated model latency straight through the SDK and through each function.
  await simLatency(50);
  try {
    const openai = new OpenAI({ apiKey: 'sk-bench', baseURL: OPENAI_BASE_URL, maxRetries: 0 });
    const direct: number[] = [];
    const suggestMiss: number[] = [];
    const chatMiss: number[] = [];
    let callsSuggest: number | null = null;
    let callsChat: number | null = null;
    const timed = async (f: () => Promise<Response>, into: number[]) => {
      const t0 = performance.now();
      const res = await f();
      await res.text();
      into.push(performance.now() - t0);
      if (res.headers.get('x-cache') !== 'MISS') {
        throw new Error(`expected a miss, got ${res.status} ${res.headers.get('x-cache')}`);
      }
      return dbCalls(res.headers.get('server-timing'));
    };
    for (let i = 0; i < 40; i++) {
      const t0 = performance.now();
      await openai.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: `${run} direct ${i}` }],
      });
      direct.push(performance.now() - t0);
      callsSuggest = await timed(
        () => suggest(10_000 + i, JSON.stringify({ description_projet: `${run} miss ${i}` })),
        suggestMiss,
      );
      callsChat = await timed(
        () => chat(JSON.stringify({ company_id: company, message: `${run} miss ${i}` })),
        chatMiss,
      );
    }
    for (const a of [direct, suggestMiss, chatMiss]) a.sort((x, y) => x - y);
    const model = percentile(direct, 50);
    return {
      transport,
      suggest_hit,
      chat_hit,
      miss: {
        model_p50_ms: model,
        suggest_p50_ms: percentile(suggestMiss, 50),
        chat_p50_ms: percentile(chatMiss, 50),
        suggest_overhead_ms: percentile(suggestMiss, 50) - model,
        chat_overhead_ms: percentile(chatMiss, 50) - model,
        db_calls_suggest: callsSuggest,
        db_calls_chat: callsChat,
      },
    };
  } finally {
    await simLatency(0);
  }
}

export async function benchTransports(transports: Transport[] = ['postgres', 'rest']): Promise<TransportsBench> {
  const saved = { ...process.env };
  const floor = await startFloorServer();
  let floor_1: LoadResult;
  let floor_32: LoadResult;
  try {
    // The floor reads one existing row by primary key: any entry will do.
    const [row] = await adminSql()`select id from public.ai_cache order by id limit 1`;
    const target = { url: `${floor.url}/?id=${row?.id ?? 1}` };
    floor_1 = await runLoad(target, { concurrency: 1, requests: n1() * 2 });
    floor_32 = await runLoad(target, { concurrency: 32, requests: n32() * 2 });
  } finally {
    floor.stop();
  }
  const runs: TransportResult[] = [];
  try {
    for (const t of transports) runs.push(await runTransport(t));
  } finally {
    // Back to the API as it was configured before the bench.
    for (
      const k of [
        'AI_CACHE_DB_TRANSPORT',
        'AI_SUGGEST_ANON_RATE_CAPACITY',
        'AI_SUGGEST_ANON_RATE_REFILL_PER_MIN',
        'AI_SUGGEST_TRUSTED_PROXY_HOPS',
      ]
    ) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    await stopApi();
    await startApiInBackground();
  }
  return { floor_1, floor_32, runs };
}

const f = (
  n: number | null | undefined,
  d = 2,
) => (n !== null && n !== undefined && Number.isFinite(n) ? n.toFixed(d) : 'n/a');

/** The ratio table: p50 at 1 client vs the floor's, req/s at 32 clients vs the floor's, CPU per hit. */
export function transportsTable(b: TransportsBench): string[] {
  const lines = [
    '',
    '## Hits and misses over both database transports, against the one-hop floor',
    '',
    `floor (HTTP + one primary-key read over a pooled postgres connection): p50 ${
      f(b.floor_1.p50_ms)
    } ms at 1 client, ${f(b.floor_32.rps, 0)} req/s at 32 clients`,
    '',
    '| path | transport | p50 ms (1 client) | × floor p50 | target | req/s (32 clients) | % floor req/s | target | db calls | CPU ms/hit gateway + deno + postgres = total (target ≤ 1.5) | errors |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  const row = (name: string, t: string, r: PathResult, p50Target: string, rpsTarget: string) => {
    const c = r.cpu_ms_per_hit;
    lines.push(
      `| ${name} | ${t} | ${f(r.p50_1.p50_ms)} | ${f(r.p50_1.p50_ms / b.floor_1.p50_ms, 1)}× | ${p50Target} | ${
        f(r.rps_32.rps, 0)
      } | ${f((100 * r.rps_32.rps) / b.floor_32.rps, 0)}% | ${rpsTarget} | ${r.db_calls ?? 'n/a'} | ${f(c.gateway)} + ${
        f(c.deno)
      } + ${f(c.postgres)} = ${f(c.total)} | ${r.p50_1.errors + r.rps_32.errors} |`,
    );
  };
  for (const r of b.runs) row('ai-suggest hit, anonymous (limiter on)', r.transport, r.suggest_hit, '≤ 3×', '≥ 25%');
  for (const r of b.runs) row('ai-chat hit (turn stored durably)', r.transport, r.chat_hit, '≤ 4.5×', '≥ 20%');
  lines.push(
    '',
    '| miss overhead over the model (p50, 50 ms simulated model) | transport | ms | target | db calls |',
    '|---|---|---|---|---|',
  );
  for (const r of b.runs) {
    lines.push(
      `| ai-suggest | ${r.transport} | ${f(r.miss.suggest_overhead_ms)} | ≤ 3 ms | ${
        r.miss.db_calls_suggest ?? 'n/a'
      } |`,
    );
  }
  for (const r of b.runs) {
    lines.push(
      `| ai-chat | ${r.transport} | ${f(r.miss.chat_overhead_ms)} | ≤ 5 ms | ${r.miss.db_calls_chat ?? 'n/a'} |`,
    );
  }
  lines.push(
    '',
    "(db calls: counted before the response headers; a miss's store after them is not included for a streamed ai-chat answer)",
  );
  return lines;
}
