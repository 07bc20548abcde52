// The local database: Debian's PostgreSQL 15 in a git-ignored state folder, bootstrapped like a
// Supabase database, migrations applied by the real Supabase CLI.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, readFileSync, chownSync } from 'node:fs';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { PG_BIN, PG_DATA, PG_LOG, STATE_DIR, DB_PORT, DB_HOST, DB_PASSWORD, DB_URL, ROOT } from './config.ts';

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;

/** PostgreSQL refuses to run as root; as root we run its binaries as the `postgres` OS user. */
function pgCommand(bin: string, args: string[]): [string, string[]] {
  const full = path.join(PG_BIN, bin);
  return isRoot ? ['runuser', ['-u', 'postgres', '--', full, ...args]] : [full, args];
}

async function pg(bin: string, args: string[]) {
  const [cmd, argv] = pgCommand(bin, args);
  return run(cmd, argv, { cwd: '/tmp', maxBuffer: 16 * 1024 * 1024 });
}

export function missingPackages(): string[] {
  const missing: string[] = [];
  if (!existsSync(path.join(PG_BIN, 'postgres'))) missing.push('postgresql-15');
  if (!existsSync('/usr/lib/postgresql/15/lib/pg_cron.so')) missing.push('postgresql-15-cron');
  if (!existsSync('/usr/share/postgresql/15/extension/pgtap.control')) missing.push('postgresql-15-pgtap');
  if (spawnSync('sh', ['-c', 'command -v pg_prove']).status !== 0) missing.push('libtap-parser-sourcehandler-pgtap-perl');
  return missing;
}

async function initCluster() {
  mkdirSync(STATE_DIR, { recursive: true });
  mkdirSync(PG_DATA, { recursive: true });
  const pwfile = path.join(STATE_DIR, '.pwfile');
  writeFileSync(pwfile, DB_PASSWORD + '\n', { mode: 0o644 });
  if (isRoot) {
    const { uid, gid } = postgresUser();
    chownSync(PG_DATA, uid, gid);
    chownSync(pwfile, uid, gid);
  }
  await pg('initdb', [
    '-D', PG_DATA, '-U', 'postgres', '--pwfile', pwfile, '--encoding', 'UTF8', '--locale', 'C.UTF-8',
    '--auth-local', 'trust', '--auth-host', 'scram-sha-256',
  ]);
  writeConfig();
}

/**
 * The server settings, rewritten on every start so a changed setting reaches existing stacks.
 * Durable commits as on a hosted project (only statistics events opt out, per transaction).
 * pg_cron runs jobs in background workers: no password-authenticated loopback connection.
 */
function writeConfig(): boolean {
  const conf = `# written by src/stack/postgres.ts on every start
listen_addresses = '${DB_HOST}'
port = ${DB_PORT}
max_connections = 200
shared_buffers = 256MB
shared_preload_libraries = 'pg_cron, pg_stat_statements'
cron.database_name = 'postgres'
cron.timezone = 'UTC'
cron.use_background_workers = on
max_worker_processes = 32
unix_socket_directories = '${PG_DATA}'
log_min_messages = warning
timezone = 'UTC'
`;
  const file = path.join(PG_DATA, 'postgresql.auto.conf');
  if (existsSync(file) && readFileSync(file, 'utf8') === conf) return false;
  writeFileSync(file, conf);
  if (isRoot) {
    const { uid, gid } = postgresUser();
    chownSync(file, uid, gid);
  }
  return true;
}

function postgresUser() {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('the postgres OS user is missing: install postgresql-15');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export async function isRunning(): Promise<boolean> {
  if (!existsSync(path.join(PG_DATA, 'PG_VERSION'))) return false;
  try {
    await pg('pg_ctl', ['status', '-D', PG_DATA]);
    return true;
  } catch {
    return false;
  }
}

export async function isReady(): Promise<boolean> {
  const r = spawnSync(path.join(PG_BIN, 'pg_isready'), ['-h', DB_HOST, '-p', String(DB_PORT), '-q']);
  return r.status === 0;
}

async function waitReady(timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await isReady()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`PostgreSQL did not become ready on port ${DB_PORT}; see ${PG_LOG}`);
}

/** Starts PostgreSQL in the background (a daemon that outlives this process). */
export async function startPostgres() {
  if (!existsSync(path.join(PG_DATA, 'PG_VERSION'))) await initCluster();
  const changed = writeConfig();
  if (changed && (await isRunning())) await pg('pg_ctl', ['restart', '-D', PG_DATA, '-m', 'fast', '-w', '-t', '60']);
  if (!(await isRunning())) {
    if (!existsSync(PG_LOG)) writeFileSync(PG_LOG, '');
    if (isRoot) { const { uid, gid } = postgresUser(); chownSync(PG_LOG, uid, gid); }
    await pg('pg_ctl', ['start', '-D', PG_DATA, '-l', PG_LOG, '-w', '-t', '60']);
  }
  await waitReady();
}

export async function stopPostgres() {
  if (await isRunning()) await pg('pg_ctl', ['stop', '-D', PG_DATA, '-m', 'fast', '-w']);
}

/** Runs SQL as the postgres superuser through psql, stopping at the first error. */
export async function psqlFile(file: string, dbUrl = DB_URL) {
  await run('psql', [dbUrl, '-v', 'ON_ERROR_STOP=1', '-q', '-X', '-f', file], { maxBuffer: 16 * 1024 * 1024 });
}

/** Applies bootstrap.sql once per content: a marker in the state folder remembers its hash. */
export async function bootstrap() {
  const file = path.join(ROOT, 'src/stack/sql/bootstrap.sql');
  const hash = createHash('sha256').update(readFileSync(file)).digest('hex');
  const marker = path.join(STATE_DIR, 'bootstrap.sha256');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === hash) return;
  await psqlFile(file);
  writeFileSync(marker, hash);
}

/** Applies pending migrations with the Supabase CLI, exactly as a deploy to a hosted project does. */
export async function migrate() {
  const supabase = path.join(ROOT, 'node_modules/.bin/supabase');
  try {
    await run(supabase, ['db', 'push', `--remote=${DB_URL}`, '--include-all', '--yes'], {
      cwd: ROOT,
      env: { ...process.env, SUPABASE_YES: '1', DO_NOT_TRACK: '1', SUPABASE_TELEMETRY_DISABLED: '1' },
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    throw new Error(`supabase db push failed:\n${err.stderr || err.stdout || err.message}`);
  }
  // A running API reloads its schema cache, as PostgREST does on this notification.
  await run('psql', [DB_URL, '-X', '-q', '-c', "notify pgrst, 'reload schema'"]);
}

export async function upDatabase() {
  await startPostgres();
  await bootstrap();
  await migrate();
}
