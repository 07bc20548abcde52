// `npm test`: brings the local stack up, runs every suite, and ends with one pass/fail line.
// Suites: database advisors, pgTAP (pg_prove), vitest (unit, integration, end-to-end over HTTP),
// TypeScript type checks for the Node toolkit and the Deno functions.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DB_URL, ROOT, stackEnv } from '../stack/config.ts';
import { upDatabase, stopPostgres, isRunning } from '../stack/postgres.ts';
import { apiStatus, startApiInBackground, stopApi } from '../stack/processes.ts';

interface SuiteResult { name: string; passed: number; failed: number; seconds: number; note?: string }

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const onData = (d: Buffer) => {
      output += d.toString();
      process.stdout.write(d);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

const bin = (name: string) => path.join(ROOT, 'node_modules/.bin', name);

async function timed(name: string, fn: () => Promise<Omit<SuiteResult, 'name' | 'seconds'>>): Promise<SuiteResult> {
  console.log(`\n━━━ ${name} ━━━`);
  const t0 = Date.now();
  try {
    const r = await fn();
    return { name, seconds: (Date.now() - t0) / 1000, ...r };
  } catch (e) {
    return { name, passed: 0, failed: 1, seconds: (Date.now() - t0) / 1000, note: (e as Error).message };
  }
}

async function advisors(): Promise<Omit<SuiteResult, 'name' | 'seconds'>> {
  // A warning fails the build: security and performance lints must be clean.
  const r = await run(bin('supabase'), ['db', 'advisors', `--remote=${DB_URL}`, '--type', 'all', '--level', 'warn', '--fail-on', 'warn']);
  const clean = r.code === 0 && /No issues found/i.test(r.output);
  return { passed: clean ? 1 : 0, failed: clean ? 0 : 1, note: clean ? 'no issues' : 'advisors reported issues' };
}

async function pgtap(): Promise<Omit<SuiteResult, 'name' | 'seconds'>> {
  const dir = path.join(ROOT, 'supabase/tests/database');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.sql')).sort().map((f) => path.join(dir, f)) : [];
  if (files.length === 0) return { passed: 0, failed: 1, note: 'no pgTAP files found' };
  const r = await run('pg_prove', ['--ext', '.sql', '-d', DB_URL, ...files]);
  const tests = Number(/Tests=(\d+)/.exec(r.output)?.[1] ?? 0);
  const failedTests = [...r.output.matchAll(/Failed (\d+)\/(\d+) subtests/g)].reduce((n, m) => n + Number(m[1]), 0);
  const failed = r.code === 0 ? 0 : Math.max(failedTests, 1);
  return { passed: tests - (r.code === 0 ? 0 : failedTests), failed, note: `${files.length} files` };
}

async function vitest(files: string[] = [], env: Record<string, string> = {}): Promise<Omit<SuiteResult, 'name' | 'seconds'>> {
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'vitest-')), 'report.json');
  const r = await run(bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...files], { ...stackEnv(), ...env });
  if (!existsSync(out)) return { passed: 0, failed: 1, note: `vitest exited ${r.code} without a report` };
  const report = JSON.parse(readFileSync(out, 'utf8')) as { numPassedTests: number; numFailedTests: number; numTotalTests: number; numFailedTestSuites: number };
  const failed = report.numFailedTests + report.numFailedTestSuites + (r.code !== 0 && report.numFailedTests === 0 ? 1 : 0);
  return { passed: report.numPassedTests, failed };
}

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
  const dirs = existsSync(fnDir) ? readdirSync(fnDir, { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith('.')) : [];
  let denoFailed = 0;
  for (const d of dirs) {
    const dir = path.join(fnDir, d.name);
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => path.join(dir, f));
    const config = existsSync(path.join(dir, 'deno.json')) ? path.join(dir, 'deno.json') : path.join(ROOT, 'deno.json');
    if (files.length && (await run(bin('deno'), ['check', '--quiet', '--config', config, ...files])).code !== 0) denoFailed++;
  }
  const passed = (node.code === 0 ? 1 : 0) + (dirs.length - denoFailed);
  const failed = (node.code === 0 ? 0 : 1) + denoFailed;
  return { passed, failed, note: `tsc ${node.code === 0 ? 'ok' : 'failed'}, deno check of ${dirs.length} folders: ${denoFailed} failed` };
}

async function main() {
  const dbWasRunning = await isRunning();
  const apiWasRunning = await apiStatus();
  console.log('━━━ local stack ━━━');
  await upDatabase();
  await startApiInBackground();
  console.log('database and API are up');

  const results: SuiteResult[] = [];
  results.push(await timed('advisors (security + performance)', advisors));
  results.push(await timed('pgTAP (supabase/tests)', pgtap));
  results.push(await timed('vitest (test/)', () => vitest()));
  // The functions' other database transport: the same end-to-end suites with every RPC going
  // through supabase-js and /rest/v1 instead of the direct Postgres pool (the API restarts so its
  // function workers read the setting).
  results.push(await timed('vitest e2e, AI_CACHE_DB_TRANSPORT=rest', () => withApiEnv({ AI_CACHE_DB_TRANSPORT: 'rest' }, () =>
    vitest(['test/e2e'], { AI_CACHE_DB_TRANSPORT: 'rest' }))));
  results.push(await timed('type checks (tsc + deno check)', typecheck));

  if (!apiWasRunning) await stopApi();
  if (!dbWasRunning) await stopPostgres();

  console.log('\n━━━ summary ━━━');
  for (const r of results) {
    const mark = r.failed === 0 ? 'PASS' : 'FAIL';
    console.log(`${mark}  ${r.name.padEnd(36)} ${String(r.passed).padStart(4)} passed  ${String(r.failed).padStart(3)} failed  ${r.seconds.toFixed(1)}s${r.note ? `  (${r.note})` : ''}`);
  }
  const passed = results.reduce((n, r) => n + r.passed, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  console.log(`\nsummary: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(`npm test: could not run the suites: ${(e as Error).message}`);
  console.log("summary: 0 passed, 1 failed");
  process.exit(1);
});
