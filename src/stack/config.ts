// Ports, paths and keys of the local stack. The keys are the Supabase CLI's standard local
// ones (`supabase start` prints the same), so docs and habits carry over unchanged.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const STATE_DIR = process.env.STACK_STATE_DIR ?? path.join(ROOT, '.stack');
export const PG_DATA = path.join(STATE_DIR, 'pgdata');
export const PG_LOG = path.join(STATE_DIR, 'postgres.log');
export const API_LOG = path.join(STATE_DIR, 'api.log');
export const API_PID = path.join(STATE_DIR, 'api.pid');

export const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
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
    SUPABASE_ANON_KEY: ANON_KEY,
    SUPABASE_SERVICE_ROLE_KEY: SERVICE_ROLE_KEY,
    SUPABASE_JWT_SECRET: JWT_SECRET,
    SUPABASE_DB_URL: DB_URL,
    OPENAI_BASE_URL: process.env.OPENAI_API_KEY ? (process.env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1') : SIM_OPENAI_URL,
    AI_METRICS_TOKEN: process.env.AI_METRICS_TOKEN ?? LOCAL_METRICS_TOKEN,
    AI_DASHBOARD_URL: `${API_URL}/dashboard/`,
  };
}
