// The suites of `npm test` on the run's own stack (see run-all.ts): database advisors, pgTAP
// (pg_prove), vitest (unit, integration, end-to-end over HTTP), TypeScript type checks for the
// Node toolkit and the Deno functions. The stack and every process started are gone at the end.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DB_URL, denoExecutable, PG_BIN, PG_MAJOR, POSTGRES, ROOT, stackEnv } from '../stack/config.ts';
import { removeStackFiles, StackError, stopPostgres, upDatabase } from '../stack/postgres.ts';
import { startApiInBackground, stopApi } from '../stack/processes.ts';
import type { IsolatedStack } from './isolation.ts';

interface SuiteResult {
  name: string;
  passed: number;
  failed: number;
  seconds: number;
  note?: string;
}

/** Suites running now; each in a process group of its own, so stopping one stops its children. */
const running = new Set<ChildProcess>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals) {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

/** Set once the run is being torn down: nothing new starts after that. */
let stopping = false;

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  if (stopping) return Promise.resolve({ code: 1, output: 'not started: npm test is stopping' });
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    running.add(child);
    let output = '';
    const onData = (d: Buffer) => {
      output += d.toString();
      process.stdout.write(d);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (e) => {
      output += `${cmd}: ${e.message}\n`;
    });
    child.on('close', (code) => {
      running.delete(child);
      // Whatever the suite left in its group (e.g. a worker of a crashed test file) goes too.
      killGroup(child, 'SIGKILL');
      resolve({ code: code ?? 1, output });
    });
  });
}

const bin = (name: string) => path.join(ROOT, 'node_modules/.bin', name);

/** supabase-js (since 2.105.2) needs a native WebSocket at createClient: Node 20 has it behind a flag. */
function nodeWebSocketEnv(): Record<string, string> {
  if (typeof (globalThis as { WebSocket?: unknown }).WebSocket !== 'undefined') return {};
  return { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --experimental-websocket`.trim() };
}

async function timed(name: string, fn: () => Promise<Omit<SuiteResult, 'name' | 'seconds'>>): Promise<SuiteResult> {
  if (stopping) return { name, passed: 0, failed: 0, seconds: 0, note: 'not run: interrupted' };
  console.log(`\n━━━ ${name} ━━━`);
  const t0 = Date.now();
  try {
    const r = await fn();
    return { name, seconds: (Date.now() - t0) / 1000, ...r };
  } catch (e) {
    return { name, passed: 0, failed: 1, seconds: (Date.now() - t0) / 1000, note: (e as Error).message };
  }
}

/** Formatting and lint of every code folder (deno fmt / deno lint, configured in deno.json). */
async function lintAndFormat(): Promise<Omit<SuiteResult, 'name' | 'seconds'>> {
  const fmt = await run(denoExecutable(), ['fmt', '--check', '--config', path.join(ROOT, 'deno.json')], {
    NO_COLOR: '1',
  });
  const lint = await run(denoExecutable(), ['lint', '--config', path.join(ROOT, 'deno.json')], { NO_COLOR: '1' });
  const failed = (fmt.code === 0 ? 0 : 1) + (lint.code === 0 ? 0 : 1);
  return {
    passed: 2 - failed,
    failed,
    note: `deno fmt ${fmt.code === 0 ? 'clean' : 'found unformatted files (run `npx deno fmt`)'}, deno lint ${
      lint.code === 0 ? 'clean' : 'reported problems'
    }`,
  };
}

async function advisors(): Promise<Omit<SuiteResult, 'name' | 'seconds'>> {
  // A warning fails the build: security and performance lints must be clean.
  const r = await run(bin('supabase'), [
    'db',
    'advisors',
    `--remote=${DB_URL}`,
    '--type',
    'all',
    '--level',
    'warn',
    '--fail-on',
    'warn',
  ]);
  const clean = r.code === 0 && /No issues found/i.test(r.output);
  return { passed: clean ? 1 : 0, failed: clean ? 0 : 1, note: clean ? 'no issues' : 'advisors reported issues' };
}

async function pgtap(): Promise<Omit<SuiteResult, 'name' | 'seconds'>> {
  const dir = path.join(ROOT, 'supabase/tests/database');
  const files = existsSync(dir)
    ? readdirSync(dir).filter((f) => f.endsWith('.sql')).sort().map((f) => path.join(dir, f))
    : [];
  if (files.length === 0) return { passed: 0, failed: 1, note: 'no pgTAP files found' };
  // pg_prove runs psql from PATH: the client of the server's own major goes first.
  const r = await run('pg_prove', ['--ext', '.sql', '-d', DB_URL, ...files], { PATH: `${PG_BIN}:${process.env.PATH}` });
  const tests = Number(/Tests=(\d+)/.exec(r.output)?.[1] ?? 0);
  const failedTests = [...r.output.matchAll(/Failed (\d+)\/(\d+) subtests/g)].reduce((n, m) => n + Number(m[1]), 0);
  const failed = r.code === 0 ? 0 : Math.max(failedTests, 1);
  return { passed: tests - (r.code === 0 ? 0 : failedTests), failed, note: `${files.length} files` };
}

async function vitest(
  files: string[] = [],
  env: Record<string, string> = {},
): Promise<Omit<SuiteResult, 'name' | 'seconds'>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vitest-'));
  const out = path.join(dir, 'report.json');
  try {
    const r = await run(bin('vitest'), [
      'run',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${out}`,
      ...files,
    ], { ...stackEnv(), ...nodeWebSocketEnv(), ...env });
    if (!existsSync(out)) return { passed: 0, failed: 1, note: `vitest exited ${r.code} without a report` };
    const report = JSON.parse(readFileSync(out, 'utf8')) as {
      numPassedTests: number;
      numFailedTests: number;
      numTotalTests: number;
      numFailedTestSuites: number;
    };
    const failed = report.numFailedTests + report.numFailedTestSuites +
      (r.code !== 0 && report.numFailedTests === 0 ? 1 : 0);
    return { passed: report.numPassedTests, failed };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The end-to-end suites that go through every RPC path of the functions (the rest do not depend on the transport). */
const REST_TRANSPORT_SUITES = [
  'test/e2e/ai-chat',
  'test/e2e/ai-suggest',
  'test/e2e/ai-gateway',
  'test/e2e/client',
  'test/e2e/paid-answers',
  'test/e2e/odd-text',
  'test/e2e/one-round-trip',
];

/** Runs `fn` with the API restarted under extra environment, then restarts it as it was. */
async function withApiEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  await stopApi();
  Object.assign(process.env, env);
  try {
    await startApiInBackground();
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await stopApi();
    await startApiInBackground();
  }
}

async function typecheck(): Promise<Omit<SuiteResult, 'name' | 'seconds'>> {
  const node = await run(bin('tsc'), ['--noEmit', '-p', 'tsconfig.json']);
  // Each function is checked with the deno.json it deploys with; _shared with the root one.
  const fnDir = path.join(ROOT, 'supabase/functions');
  const dirs = existsSync(fnDir)
    ? readdirSync(fnDir, { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    : [];
  let denoFailed = 0;
  for (const d of dirs) {
    const dir = path.join(fnDir, d.name);
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => path.join(dir, f));
    const config = existsSync(path.join(dir, 'deno.json')) ? path.join(dir, 'deno.json') : path.join(ROOT, 'deno.json');
    if (
      files.length &&
      (await run(denoExecutable(), ['check', '--quiet', '--frozen', '--config', config, ...files])).code !== 0
    ) denoFailed++;
  }
  const passed = (node.code === 0 ? 1 : 0) + (dirs.length - denoFailed);
  const failed = (node.code === 0 ? 0 : 1) + denoFailed;
  return {
    passed,
    failed,
    note: `tsc ${node.code === 0 ? 'ok' : 'failed'}, deno check of ${dirs.length} folders: ${denoFailed} failed`,
  };
}

function printSummary(results: SuiteResult[], interrupted?: string) {
  console.log('\n━━━ summary ━━━');
  for (const r of results) {
    const mark = r.failed === 0 ? 'PASS' : 'FAIL';
    console.log(
      `${mark}  ${r.name.padEnd(36)} ${String(r.passed).padStart(4)} passed  ${String(r.failed).padStart(3)} failed  ${
        r.seconds.toFixed(1)
      }s${r.note ? `  (${r.note})` : ''}`,
    );
  }
  const passed = results.reduce((n, r) => n + r.passed, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0) + (interrupted ? 1 : 0);
  console.log(`\nsummary: ${passed} passed, ${failed} failed${interrupted ? ` (${interrupted})` : ''}`);
  return failed;
}

/** Stops every suite and the run's stack, and removes its files. Safe to call twice. */
let tornDown: Promise<void> | undefined;
function teardown(stack: IsolatedStack): Promise<void> {
  stopping = true;
  return (tornDown ??= (async () => {
    for (const child of running) killGroup(child, 'SIGTERM');
    const steps: Array<[string, () => Promise<void> | void]> = [
      ['stop the API', stopApi],
      ['stop PostgreSQL', stopPostgres],
      ['remove the stack files', removeStackFiles],
    ];
    for (const [what, step] of steps) {
      try {
        await step();
      } catch (e) {
        console.error(`npm test: could not ${what}: ${(e as Error).message} (state folder ${stack.stateDir})`);
      }
    }
    for (const child of running) killGroup(child, 'SIGKILL');
  })());
}

export async function runSuites(stack: IsolatedStack) {
  const results: SuiteResult[] = [];
  let interrupted = false;
  const interrupt = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\nnpm test: ${signal}: stopping the suites and removing the test stack…`);
    void teardown(stack).then(() => {
      printSummary(results, `interrupted by ${signal}`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  };
  // `on`, not `once`: Ctrl-C reaches this process twice (from the terminal and relayed by tsx),
  // and a second signal without a handler would kill it before the stack is removed.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => interrupt(signal));

  let failed = 1;
  try {
    console.log(
      `━━━ local stack (npm test's own: ${stack.stateDir}, ports ${stack.ports.db}/${stack.ports.api}/${stack.ports.sim}/${stack.ports.functions}+, PostgreSQL ${
        PG_MAJOR ?? 'none'
      }${POSTGRES.source ? `, ${POSTGRES.source}` : ''}, simulated model) ━━━`,
    );
    await upDatabase();
    await startApiInBackground();
    console.log('database and API are up');

    results.push(await timed('lint and format (deno lint, deno fmt --check)', lintAndFormat));
    results.push(await timed('advisors (security + performance)', advisors));
    results.push(await timed('pgTAP (supabase/tests)', pgtap));
    results.push(await timed('vitest (test/)', () => vitest()));
    // The functions' other database transport: the same end-to-end suites with every RPC going
    // through supabase-js and /rest/v1 instead of the direct Postgres pool (the API restarts so its
    // function workers read the setting).
    results.push(
      await timed(
        'vitest e2e, AI_CACHE_DB_TRANSPORT=rest',
        () =>
          withApiEnv(
            { AI_CACHE_DB_TRANSPORT: 'rest' },
            () => vitest(['--project', 'suites', ...REST_TRANSPORT_SUITES], { AI_CACHE_DB_TRANSPORT: 'rest' }),
          ),
      ),
    );
    results.push(await timed('type checks (tsc + deno check)', typecheck));
    await teardown(stack);
    failed = printSummary(results);
  } catch (e) {
    const err = e as Error;
    console.error(
      `npm test: could not run the suites: ${err instanceof StackError ? err.message : err.stack ?? err.message}`,
    );
    await teardown(stack);
    failed = printSummary(
      results.length ? results : [{ name: 'local stack', passed: 0, failed: 1, seconds: 0, note: 'did not start' }],
    );
  }
  process.exit(failed === 0 ? 0 : 1);
}
