// A small closed-loop load generator: `concurrency` clients each send a request as soon as the
// previous one answered, over keep-alive connections, recording every latency.
import http from 'node:http';

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  mean_ms: number;
}

export interface HttpTarget {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  /** A body per request (index-aware, so clients can spread over distinct keys). */
  body?: (i: number) => string;
  /** Checks a response; a false answer counts as an error. */
  ok?: (status: number, body: string, headers: http.IncomingHttpHeaders) => boolean;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function once(agent: http.Agent, t: HttpTarget, i: number): Promise<boolean> {
  const u = new URL(t.url);
  const body = t.body?.(i);
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: t.method ?? (body ? 'POST' : 'GET'),
        agent,
        headers: {
          ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}),
          ...t.headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve(t.ok ? t.ok(res.statusCode ?? 0, text, res.headers) : (res.statusCode ?? 0) < 400));
      },
    );
    req.on('error', () => resolve(false));
    if (body) req.write(body);
    req.end();
  });
}

export async function runLoad(
  t: HttpTarget,
  opts: { concurrency: number; requests: number; warmup?: number },
): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  for (let i = 0; i < (opts.warmup ?? Math.min(200, opts.requests / 5)); i++) await once(agent, t, i);
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (next < opts.requests) {
        const i = next++;
        const t0 = performance.now();
        const ok = await once(agent, t, i);
        latencies.push(performance.now() - t0);
        if (!ok) errors++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const mean = latencies.reduce((a, b) => a + b, 0) / latencies.length;
  return {
    requests: latencies.length,
    errors,
    seconds,
    rps: latencies.length / seconds,
    p50_ms: percentile(latencies, 50),
    p99_ms: percentile(latencies, 99),
    mean_ms: mean,
  };
}
