// Ports, paths and keys of the local stack. The keys are the Supabase CLI's standard local
// ones (`supabase start` prints the same), so docs and habits carry over unchanged.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { decidePostgres, pgPaths } from '../../scripts/postgres-major.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const STATE_DIR = path.resolve(process.env.STACK_STATE_DIR ?? path.join(ROOT, '.stack'));
export const API_LOG = path.join(STATE_DIR, 'api.log');
export const API_PID = path.join(STATE_DIR, 'api.pid');

export const IS_ROOT = process.getuid?.() === 0;

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** PostgreSQL refuses to run as root: as root, the server runs as the `postgres` OS user. */
export function serverUser(): OsUser | null {
  if (!IS_ROOT) return null;
  const line = existsSync('/etc/passwd')
    ? readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'))
    : undefined;
  if (!line) return null;
  const [name, , uid, gid, , home] = line.split(':');
  return { name, uid: Number(uid), gid: Number(gid), home };
}

/** Whether `user` can traverse every existing folder down to `dir` (missing ones we create 0755). */
function reachable(dir: string, user: OsUser): boolean {
  for (let d = dir;; d = path.dirname(d)) {
    if (existsSync(d)) {
      const st = statSync(d);
      const bit = st.uid === user.uid ? 0o100 : st.gid === user.gid ? 0o010 : 0o001;
      if ((st.mode & bit) === 0) return false;
    }
    if (d === path.dirname(d)) return true;
  }
}

/**
 * Where the cluster (pgdata, the server's log) lives: in the state folder, unless the server's
 * OS user cannot reach it (a clone in /root, mode 700). Then in that user's home, one folder per
 * state folder, so nobody has to open up their home's permissions.
 */
function clusterDir(): string {
  const user = serverUser();
  if (!IS_ROOT || existsSync(path.join(STATE_DIR, 'pgdata', 'PG_VERSION'))) return STATE_DIR;
  if (user && reachable(STATE_DIR, user)) return STATE_DIR;
  const slug = `${path.basename(path.dirname(STATE_DIR)).replace(/[^A-Za-z0-9_.-]+/g, '_')}-${
    createHash('sha256').update(STATE_DIR).digest('hex').slice(0, 12)
  }`;
  return path.join(user?.home ?? '/var/lib/postgresql', 'supabase-ai-cache', slug);
}

export const CLUSTER_DIR = clusterDir();
export const PG_DATA = path.join(CLUSTER_DIR, 'pgdata');
export const PG_LOG = path.join(CLUSTER_DIR, 'postgres.log');

function clusterMajor(): number | undefined {
  const file = path.join(PG_DATA, 'PG_VERSION');
  try {
    return Number(readFileSync(file, 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

/** The PostgreSQL major this stack runs (decided in scripts/postgres-major.mjs, the one place). */
export const POSTGRES = decidePostgres({ useApt: false, clusterMajor: clusterMajor() });
export const PG_MAJOR = POSTGRES.major;
export const PG_BIN = PG_MAJOR === null ? '' : pgPaths(PG_MAJOR).bin;

/**
 * The Deno executable itself, never npm's `.bin/deno` shim: without deno's install script (npm 12
 * blocks it) that shim is a Node process that spawns Deno, and signalling it orphans the worker.
 */
export function denoExecutable(): string {
  const require = createRequire(path.join(ROOT, 'node_modules/deno/package.json'));
  return (require('./install_api.cjs') as { runInstall(): string }).runInstall();
}

/** Set by `npm test`: the simulated model, whatever OPENAI_* the environment or functions/.env say. */
export const FORCE_SIMULATED_MODEL = process.env.STACK_FORCE_SIMULATED_MODEL === '1';

export const DB_HOST = '127.0.0.1';
export const DB_PORT = Number(process.env.SUPABASE_DB_PORT ?? 54322);
export const DB_PASSWORD = 'postgres';
export const API_PORT = Number(process.env.SUPABASE_API_PORT ?? 54321);
export const SIM_OPENAI_PORT = Number(process.env.SIM_OPENAI_PORT ?? 54330);
/** First port handed to Deno function workers; each function gets the next one. */
export const FUNCTIONS_BASE_PORT = Number(process.env.FUNCTIONS_BASE_PORT ?? 54340);

export const JWT_SECRET = 'super-secret-jwt-token-with-at-least-32-characters-long';
export const ANON_KEY =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0';
export const SERVICE_ROLE_KEY =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU';
/**
 * The new API keys, as `supabase start` prints them: opaque strings (not JWTs) that the gateway
 * maps to the anon and service_role roles. Both kinds work side by side with the legacy keys.
 */
export const PUBLISHABLE_KEY = 'sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH';
export const SECRET_KEY = 'sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz';

/** The local stack's bearer token for /functions/v1/ai-metrics (a hosted project sets its own secret). */
export const LOCAL_METRICS_TOKEN = 'local-metrics-token';

export const DB_URL = `postgresql://postgres:${DB_PASSWORD}@${DB_HOST}:${DB_PORT}/postgres`;
/** PostgREST connects as `authenticator` and switches role per request, as on a hosted project. */
export const AUTHENTICATOR_URL = `postgresql://authenticator:${DB_PASSWORD}@${DB_HOST}:${DB_PORT}/postgres`;
export const API_URL = `http://127.0.0.1:${API_PORT}`;
export const SIM_OPENAI_URL = `http://127.0.0.1:${SIM_OPENAI_PORT}/v1`;

/** The variables `npm run stack -- env` prints: what tests, functions and apps need. */
export function stackEnv(): Record<string, string> {
  return {
    SUPABASE_URL: API_URL,
    SUPABASE_PUBLISHABLE_KEY: PUBLISHABLE_KEY,
    SUPABASE_SECRET_KEY: SECRET_KEY,
    SUPABASE_ANON_KEY: ANON_KEY,
    SUPABASE_SERVICE_ROLE_KEY: SERVICE_ROLE_KEY,
    SUPABASE_JWT_SECRET: JWT_SECRET,
    SUPABASE_DB_URL: DB_URL,
    OPENAI_BASE_URL: process.env.OPENAI_API_KEY && !FORCE_SIMULATED_MODEL
      ? (process.env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1')
      : SIM_OPENAI_URL,
    AI_METRICS_TOKEN: process.env.AI_METRICS_TOKEN ?? LOCAL_METRICS_TOKEN,
    AI_DASHBOARD_URL: `${API_URL}/dashboard/`,
    ...(PG_MAJOR === null ? {} : { STACK_PG_MAJOR: String(PG_MAJOR) }),
  };
}
