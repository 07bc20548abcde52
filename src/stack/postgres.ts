// The local database: Debian's PostgreSQL (the major scripts/postgres-major.mjs decides) in a
// git-ignored cluster folder, bootstrapped like a Supabase database, migrations applied by the
// real Supabase CLI.
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { missingPackages } from '../../scripts/postgres-major.mjs';
import {
  CLUSTER_DIR,
  DB_HOST,
  DB_PASSWORD,
  DB_PORT,
  DB_URL,
  IS_ROOT,
  PG_BIN,
  PG_DATA,
  PG_LOG,
  PG_MAJOR,
  POSTGRES,
  ROOT,
  serverUser,
  STATE_DIR,
} from './config.ts';

const run = promisify(execFile);

/** A problem the user can act on: the CLI prints the message alone, without a stack trace. */
export class StackError extends Error {}

/** Fails with what to install when the decided major is not usable (e.g. `stack up` before `npm start`). */
function requirePostgres(): number {
  if (PG_MAJOR === null) {
    throw new StackError(
      `no usable PostgreSQL: ${POSTGRES.problem}. Run \`npm start\` (installs it as root) or see the README's platform section.`,
    );
  }
  const missing = missingPackages(PG_MAJOR);
  if (missing.length) {
    throw new StackError(
      `PostgreSQL ${PG_MAJOR} lacks Debian packages: ${missing.join(' ')}. Install them: sudo apt-get install -y ${
        missing.join(' ')
      }`,
    );
  }
  return PG_MAJOR;
}

function owner() {
  const user = serverUser();
  if (IS_ROOT && !user) {
    throw new StackError(
      `the postgres OS user is missing: install postgresql-${PG_MAJOR ?? 'N'} (npm start does it as root)`,
    );
  }
  return user;
}

/** Gives a file or folder to the server's OS user (when root runs the stack). */
function giveToServer(p: string) {
  const user = owner();
  if (user) chownSync(p, user.uid, user.gid);
}

/** PostgreSQL refuses to run as root; as root we run its binaries as the `postgres` OS user. */
function pgCommand(bin: string, args: string[]): [string, string[]] {
  const full = path.join(PG_BIN, bin);
  const user = owner();
  return user ? ['runuser', ['-u', user.name, '--', full, ...args]] : [full, args];
}

async function pg(bin: string, args: string[]) {
  requirePostgres();
  const [cmd, argv] = pgCommand(bin, args);
  return run(cmd, argv, { cwd: '/tmp', maxBuffer: 16 * 1024 * 1024 });
}

/** The state folder, readable by the server's OS user (root's umask may be 077). */
function ensureStateDir() {
  if (!existsSync(STATE_DIR)) {
    mkdirSync(STATE_DIR, { recursive: true });
    if (IS_ROOT) chmodSync(STATE_DIR, 0o755);
  }
  if (CLUSTER_DIR !== STATE_DIR && !existsSync(CLUSTER_DIR)) {
    for (const dir of [path.dirname(CLUSTER_DIR), CLUSTER_DIR]) {
      if (existsSync(dir)) continue;
      mkdirSync(dir, { mode: 0o700 });
      giveToServer(dir);
    }
    // Where the cluster went, for someone looking in the state folder.
    writeFileSync(path.join(STATE_DIR, 'cluster-location'), `${CLUSTER_DIR}\n`);
  }
}

async function initCluster() {
  ensureStateDir();
  mkdirSync(PG_DATA, { recursive: true, mode: 0o700 });
  giveToServer(PG_DATA);
  // Next to the cluster, where the server's user reads it; owner-only, removed once used.
  const pwfile = path.join(CLUSTER_DIR, '.pwfile');
  writeFileSync(pwfile, DB_PASSWORD + '\n', { mode: 0o600 });
  giveToServer(pwfile);
  try {
    await pg('initdb', [
      '-D',
      PG_DATA,
      '-U',
      'postgres',
      '--pwfile',
      pwfile,
      '--encoding',
      'UTF8',
      '--locale',
      'C.UTF-8',
      '--auth-local',
      'trust',
      '--auth-host',
      'scram-sha-256',
    ]);
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new StackError(`initdb could not create the cluster in ${PG_DATA}:\n${(err.stderr || err.message).trim()}`);
  } finally {
    unlinkSync(pwfile);
  }
  writeConfig();
}

/**
 * The server settings, rewritten on every start so a changed setting reaches existing stacks.
 * Durable commits as on a hosted project (only statistics events opt out, per transaction).
 * pg_cron runs jobs in background workers: no password-authenticated loopback connection.
 * TCP only: a Unix socket path is limited to 107 bytes, which a clone in a deep folder exceeds.
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
unix_socket_directories = ''
log_min_messages = warning
timezone = 'UTC'
`;
  const file = path.join(PG_DATA, 'postgresql.auto.conf');
  if (existsSync(file) && readFileSync(file, 'utf8') === conf) return false;
  writeFileSync(file, conf);
  giveToServer(file);
  return true;
}

export async function isRunning(): Promise<boolean> {
  if (PG_MAJOR === null || !existsSync(path.join(PG_DATA, 'PG_VERSION'))) return false;
  try {
    await pg('pg_ctl', ['status', '-D', PG_DATA]);
    return true;
  } catch {
    return false;
  }
}

export async function isReady(): Promise<boolean> {
  if (PG_MAJOR === null) return false;
  const r = spawnSync(path.join(PG_BIN, 'pg_isready'), ['-h', DB_HOST, '-p', String(DB_PORT), '-q']);
  return r.status === 0;
}

function logTail(n = 20): string {
  if (!existsSync(PG_LOG)) return '    (no log yet)';
  return readFileSync(PG_LOG, 'utf8').trim().split('\n').slice(-n).map((l) => `    ${l}`).join('\n');
}

/** Why the server cannot start, with the log's last lines and what to do about it. */
function startFailure(reason: string, whatToDo: string): StackError {
  return new StackError(
    `PostgreSQL ${PG_MAJOR} could not start: ${reason}\nLast lines of ${PG_LOG}:\n${logTail()}\nWhat to do: ${whatToDo}`,
  );
}

async function waitReady(timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await isReady()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw startFailure(
    `it did not accept connections on port ${DB_PORT} within ${timeoutMs / 1000}s`,
    'read the log above; `npm run stack -- down` then start again.',
  );
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, DB_HOST, () => srv.close(() => resolve(true)));
  });
}

/** Starts PostgreSQL in the background (a daemon that outlives this process). */
export async function startPostgres() {
  requirePostgres();
  if (!existsSync(path.join(PG_DATA, 'PG_VERSION'))) await initCluster();
  const clusterVersion = readFileSync(path.join(PG_DATA, 'PG_VERSION'), 'utf8').trim();
  if (clusterVersion !== String(PG_MAJOR)) {
    throw new StackError(
      `the cluster in ${PG_DATA} was created by PostgreSQL ${clusterVersion}, but this stack runs ${PG_MAJOR} (${POSTGRES.source}). Set STACK_PG_MAJOR=${clusterVersion}, or remove the cluster (\`npm run stack -- down\`, then delete ${PG_DATA}) to start afresh.`,
    );
  }
  const changed = writeConfig();
  if (changed && (await isRunning())) await pg('pg_ctl', ['restart', '-D', PG_DATA, '-m', 'fast', '-w', '-t', '60']);
  if (!(await isRunning())) {
    if (!(await portFree(DB_PORT))) {
      throw startFailure(
        `port ${DB_PORT} on ${DB_HOST} is taken by another process`,
        `stop that process (\`ss -ltnp 'sport = :${DB_PORT}'\` names it) or choose another port with SUPABASE_DB_PORT=<port>.`,
      );
    }
    if (!existsSync(PG_LOG)) writeFileSync(PG_LOG, '');
    giveToServer(PG_LOG);
    try {
      await pg('pg_ctl', ['start', '-D', PG_DATA, '-l', PG_LOG, '-w', '-t', '60']);
    } catch (e) {
      const err = e as { stderr?: string; stdout?: string; message: string };
      const said = (err.stderr || err.stdout || err.message).trim().split('\n').slice(-3).join(' ');
      throw startFailure(
        said,
        `check that ${PG_DATA} belongs to ${
          owner()?.name ?? 'you'
        } with mode 0700 and is readable, that port ${DB_PORT} is free, and see the log above; a broken cluster can be removed (delete ${PG_DATA}) and is recreated with its migrations on the next start.`,
      );
    }
  }
  await waitReady();
}

export async function stopPostgres() {
  if (await isRunning()) await pg('pg_ctl', ['stop', '-D', PG_DATA, '-m', 'fast', '-w']);
}

/** Removes the cluster and the state folder (npm test's throw-away stacks). Stop it first. */
export function removeStackFiles() {
  if (CLUSTER_DIR !== STATE_DIR) rmSync(CLUSTER_DIR, { recursive: true, force: true });
  rmSync(STATE_DIR, { recursive: true, force: true });
}

/** Runs SQL as the postgres superuser through psql, stopping at the first error. */
export async function psqlFile(file: string, dbUrl = DB_URL) {
  await run(path.join(PG_BIN, 'psql'), [dbUrl, '-v', 'ON_ERROR_STOP=1', '-q', '-X', '-f', file], {
    maxBuffer: 16 * 1024 * 1024,
  });
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
  await run(path.join(PG_BIN, 'psql'), [DB_URL, '-X', '-q', '-c', "notify pgrst, 'reload schema'"]);
}

export async function upDatabase() {
  await startPostgres();
  await bootstrap();
  await migrate();
}
