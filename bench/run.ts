// `npm run bench`: every performance figure in one run on this machine, printed as a table and
// written to bench/results/latest.json. Timing goals live here, never in pass/fail tests.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, stackEnv } from '../src/stack/config.ts';
import { upDatabase } from '../src/stack/postgres.ts';
import { apiStatus, startApiInBackground } from '../src/stack/processes.ts';
import { closeAdminSql } from '../test/helpers/stack.ts';
import { benchChat } from './chat.ts';
import type { LoadResult } from './load.ts';

const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

function row(name: string, r: LoadResult, floor?: LoadResult) {
  const ratio = floor
    ? `${f(r.p50_ms / floor.p50_ms, 1)}× floor p50, ${f((100 * r.rps) / floor.rps, 0)}% floor req/s`
    : '';
  return `| ${name.padEnd(30)} | ${f(r.p50_ms).padStart(7)} | ${f(r.p99_ms).padStart(7)} | ${
    f(r.rps, 0).padStart(7)
  } | ${String(r.errors).padStart(4)} | ${ratio}`;
}

async function main() {
  await upDatabase();
  if (!(await apiStatus())) await startApiInBackground();
  // Section names select sections (all by default); --scale adds the long 10M-entry step.
  const args = process.argv.slice(2);
  const which = new Set(args.filter((a) => !a.startsWith('--')));
  const want = (name: string) =>
    (which.size === 0 && name !== 'scale') || which.has(name) || (name === 'scale' && args.includes('--scale'));
  const results: Record<string, unknown> = {
    machine: { cores: (await import('node:os')).cpus().length, node: process.version },
    at: new Date().toISOString(),
  };
  const lines: string[] = [];

  if (want('rest')) {
    const { runRestOverheadBench } = await import('./rest-overhead.ts');
    const r = await runRestOverheadBench();
    results.rest = r;
    lines.push(
      '',
      '## REST API overhead: a trivial RPC through /rest/v1 vs the same SQL',
      '',
      '| path                                  | p50 ms | p99 ms | req/s at 32 |',
      '|---------------------------------------|--------|--------|-------------|',
      `| direct (postgres driver)              | ${f(r.direct_p50_ms)} | ${f(r.direct_p99_ms)} |             |`,
      `| HTTP hop + same SQL (floor)           | ${f(r.floor_p50_ms)} | ${f(r.floor_p99_ms)} | ${
        f(r.floor_rps_32, 0)
      } |`,
      `| /rest/v1/rpc (JWT, role, transaction) | ${f(r.rest_p50_ms)} | ${f(r.rest_p99_ms)} | ${f(r.rest_rps_32, 0)} |`,
      '',
      `REST over direct: ${f(r.rest_over_direct_ratio_p50, 1)}× p50; over the HTTP floor: +${
        f(r.rest_over_floor_ms_p50)
      } ms p50, ${f(100 * r.rest_throughput_share_of_floor, 0)}% of its throughput`,
    );
  }

  if (want('chat')) {
    const c = await benchChat();
    results.chat = c;
    lines.push(
      '',
      '## ai-chat cache hits against the one-hop floor',
      '',
      '| target                         | p50 ms  | p99 ms  |  req/s  | errs | vs floor',
      '|--------------------------------|---------|---------|---------|------|---------',
      row('floor (HTTP + PK read), 1', c.floor_1),
      row('floor (HTTP + PK read), 32', c.floor_32),
      row('hit, distinct keys, 1', c.hit_distinct_1, c.floor_1),
      row('hit, distinct keys, 32', c.hit_distinct_32, c.floor_32),
      row('hit, one hot key, 1', c.hit_hot_1, c.floor_1),
      row('hit, one hot key, 32', c.hit_hot_32, c.floor_32),
      '',
      `hot key keeps ${
        f((100 * c.hit_hot_32.rps) / c.hit_distinct_32.rps, 0)
      }% of distinct-key throughput at 32 clients (target ≥ 80%)`,
      `miss overhead over the model's own latency: ${f(c.miss.overhead_p50_ms)} ms p50 (model ${
        f(c.miss.model_p50_ms)
      } ms direct, ${f(c.miss.miss_p50_ms)} ms through ai-chat; target ≤ 3 ms)`,
      `single-flight: ${c.single_flight.concurrent} concurrent identical misses → ${c.single_flight.upstream_calls} upstream call(s) (target 1)`,
    );
  }

  if (want('transports')) {
    const { benchTransports, transportsTable } = await import('./transports.ts');
    const t = await benchTransports();
    results.transports = t;
    lines.push(...transportsTable(t));
  }

  if (want('gateway')) {
    const { benchGateway, gatewayReport } = await import('./gateway.ts');
    const g = await benchGateway();
    results.gateway = g;
    lines.push(...gatewayReport(g));
  }

  if (want('scale')) {
    const { benchScale, scaleTable } = await import('./scale.ts');
    const s = await benchScale({ rows: Number(process.env.BENCH_SCALE_ROWS ?? 10_000_000) });
    results.scale = s;
    lines.push(...scaleTable(s));
  }

  if (want('cleanup')) {
    const { benchCleanup } = await import('./cleanup.ts');
    const env = stackEnv();
    const rows = Number(process.env.BENCH_CLEANUP_ROWS ?? 1_000_000);
    const r = await benchCleanup({
      dbUrl: env.SUPABASE_DB_URL,
      supabaseUrl: env.SUPABASE_URL,
      serviceKey: env.SUPABASE_SERVICE_ROLE_KEY,
      rows,
    });
    results.cleanup = r;
    lines.push(
      '',
      '## Cleanup of expired rows while hits are served',
      '',
      `${r.rows.toLocaleString('en')} expired rows deleted in ${f(r.cleanup_seconds, 1)} s (${
        f(r.rows_per_second, 0)
      } rows/s); ` +
        `${r.hits_during_cleanup} hits served meanwhile: p50 ${f(r.hit_p50_ms_before)} ms before → ${
          f(r.hit_p50_ms_during)
        } ms during, p99 ${f(r.hit_p99_ms_during)} ms during`,
    );
  }

  await closeAdminSql();
  console.log(lines.join('\n'));
  const dir = path.join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'latest.json'), JSON.stringify(results, null, 2));
  console.log(`\nwritten to bench/results/latest.json`);
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
