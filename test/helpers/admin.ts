// Helpers of the admin suites (CLI, metrics, cron): run the CLI as a real subprocess in either
// connection mode, arrange cache fixtures for a company of one's own, parse Prometheus text.
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { adminSql, DB_URL, SERVICE_ROLE_KEY, SUPABASE_URL } from './stack.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI_BIN = path.join(ROOT, 'bin/ai-cache.mjs');

export type CliMode = 'db' | 'api';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment of a CLI run: only the variables of the chosen mode, plus overrides. */
export function cliEnv(mode: CliMode, overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['SUPABASE_DB_URL', 'SUPABASE_URL', 'SUPABASE_SERVICE_ROLE_KEY']) delete env[k];
  if (mode === 'db') env.SUPABASE_DB_URL = DB_URL;
  else Object.assign(env, { SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY: SERVICE_ROLE_KEY });
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Runs `ai-cache <args>` (the package's bin) with stdin a closed pipe (not a terminal). */
export function runCli(
  args: string[],
  opts: { mode: CliMode; env?: Record<string, string | undefined>; timeoutMs?: number },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], {
      cwd: ROOT,
      env: cliEnv(opts.mode, opts.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

/**
 * Runs `ai-cache <args>` in a pseudo-terminal (util-linux `script`), typing `input`: what an
 * operator at a terminal sees, prompt included (stdout and stderr arrive merged).
 */
export function runCliInTerminal(args: string[], input: string, opts: { mode: CliMode }): Promise<CliResult> {
  const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, CLI_BIN, ...args].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd: ROOT,
      env: cliEnv(opts.mode),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(input);
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

/** Parses stdout as JSON, with the whole run in the message when it is not. */
export function json<T = Record<string, unknown>>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

export const cacheKey = (label: string) => createHash('sha256').update(`${label}-${randomUUID()}`).digest('hex');

export interface EntryFixture {
  companyId: string | null;
  cacheType?: string;
  model?: string;
  keyVersion?: number;
  request?: unknown;
  promptTokens?: number;
  completionTokens?: number;
  costUsd?: number;
  hitCount?: number;
  /** Seconds ago it was created (default 0). */
  ageSeconds?: number;
  /** Seconds from now it expires; negative = already expired (default 1 day). */
  expiresInSeconds?: number;
}

export interface InsertedEntry {
  id: number;
  cacheKey: string;
}

export async function insertEntry(e: EntryFixture): Promise<InsertedEntry> {
  const key = cacheKey('admin-fixture');
  const [row] = await adminSql()`
    insert into public.ai_cache (company_id, cache_key, cache_type, model, key_version, request, cached_result,
                                 prompt_tokens, completion_tokens, cost_usd, hit_count, created_at, expires_at)
    values (${e.companyId}, ${key}, ${e.cacheType ?? 'chat'}, ${e.model ?? 'gpt-4o-mini'}, ${e.keyVersion ?? 1},
            ${e.request === undefined || e.request === null ? null : adminSql().json(e.request as never)},
            ${adminSql().json({ message: { role: 'assistant', content: 'fixture' } })},
            ${e.promptTokens ?? 10}, ${e.completionTokens ?? 10}, ${e.costUsd ?? 0.0001}, ${e.hitCount ?? 0},
            now() - make_interval(secs => ${e.ageSeconds ?? 0}),
            now() + make_interval(secs => ${e.expiresInSeconds ?? 86400}))
    returning id`;
  return { id: Number(row.id), cacheKey: key };
}

/** Real hot-path lookups, as the Edge Functions make them: each records a hit or a miss event. */
export async function lookup(companyId: string | null, key: string, cacheType: string, times = 1): Promise<void> {
  for (let i = 0; i < times; i++) await adminSql()`select public.cache_lookup(${companyId}, ${key}, ${cacheType})`;
}

export async function insertEvent(
  e: {
    companyId: string | null;
    cacheType: string;
    kind: 'hit' | 'miss' | 'upstream_call' | 'upstream_error';
    tokens?: number;
    costUsd?: number;
    cacheId?: number;
  },
): Promise<void> {
  await adminSql()`
    insert into private.ai_cache_events (company_id, cache_type, cache_id, kind, tokens, cost_usd)
    values (${e.companyId}, ${e.cacheType}, ${e.cacheId ?? null}, ${e.kind}, ${e.tokens ?? 0}, ${e.costUsd ?? 0})`;
}

export async function countEntries(companyId: string): Promise<number> {
  const [row] = await adminSql()`select count(*)::int as n from public.ai_cache where company_id = ${companyId}`;
  return row.n as number;
}

/** Removes everything a suite left for these companies: entries, pending events, daily counters. */
export async function dropCompanies(companyIds: string[]): Promise<void> {
  if (companyIds.length === 0) return;
  await adminSql()`delete from public.ai_cache where company_id in ${adminSql()(companyIds)}`;
  await adminSql()`delete from private.ai_cache_events where company_id in ${adminSql()(companyIds)}`;
  await adminSql()`delete from public.ai_cache_stats_daily where company_id in ${adminSql()(companyIds)}`;
}

/** Same, for a cache type of one's own (metrics are per cache type across companies). */
export async function dropCacheType(cacheType: string): Promise<void> {
  await adminSql()`delete from public.ai_cache where cache_type = ${cacheType}`;
  await adminSql()`delete from private.ai_cache_events where cache_type = ${cacheType}`;
  await adminSql()`delete from public.ai_cache_stats_daily where cache_type = ${cacheType}`;
}

/**
 * The cron suite runs the real, global cleanup (every expired row of the database goes), so
 * suites whose fixtures include expired entries hold this lock shared while they run, and the
 * cron suite holds it exclusively: they never overlap. Held by a session of its own; the
 * returned function ends the session, which releases it.
 */
export async function holdAdminSuiteLock(kind: 'shared' | 'exclusive'): Promise<() => Promise<void>> {
  const conn = postgres(DB_URL, { max: 1, onnotice: () => {}, idle_timeout: 0 });
  if (kind === 'shared') await conn`select pg_advisory_lock_shared(hashtext('ai-cache admin suites'))`;
  else await conn`select pg_advisory_lock(hashtext('ai-cache admin suites'))`;
  return async () => {
    await conn.end({ timeout: 5 });
  };
}

// ------------------------------------------------------------------------------------------------
// Prometheus text format, parsed by a library (not by this project's own code)
// ------------------------------------------------------------------------------------------------

export interface ParsedFamily {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'SUMMARY' | 'HISTOGRAM' | 'UNTYPED';
  metrics: Array<{ value: string; labels?: Record<string, string> }>;
}

const requireCjs = createRequire(import.meta.url);
const parsePrometheusTextFormat = requireCjs('parse-prometheus-text-format') as (text: string) => ParsedFamily[];

export function parsePrometheus(text: string): Map<string, ParsedFamily> {
  return new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
}

/** The value of one sample, selected by its labels; undefined when absent. */
export function sampleValue(
  families: Map<string, ParsedFamily>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const f = families.get(name);
  const m = f?.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
  return m === undefined ? undefined : Number(m.value);
}
