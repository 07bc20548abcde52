// Runs the API (gateway, functions host, simulated OpenAI) in the background or the foreground.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { API_LOG, API_PID, API_URL, DB_URL, ROOT, stackEnv, STATE_DIR } from './config.ts';
import { stopPostgres, upDatabase } from './postgres.ts';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readPid(): number | null {
  if (!existsSync(API_PID)) return null;
  const pid = Number(readFileSync(API_PID, 'utf8').trim());
  return Number.isFinite(pid) && pid > 0 && pidAlive(pid) ? pid : null;
}

async function apiAnswers(): Promise<boolean> {
  try {
    const r = await fetch(`${API_URL}/health`, { signal: AbortSignal.timeout(1000) });
    return r.ok;
  } catch {
    return false;
  }
}

export async function apiStatus(): Promise<boolean> {
  return readPid() !== null && (await apiAnswers());
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let delay = 50;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 500);
  }
  throw new Error(`${what} did not become ready in ${timeoutMs / 1000}s; see ${API_LOG}`);
}

/** Starts the API as a detached process that outlives `stack up`; idempotent. */
export async function startApiInBackground() {
  if (readPid() !== null) {
    await waitFor(apiAnswers, 'the API');
    return;
  }
  mkdirSync(STATE_DIR, { recursive: true });
  const log = openSync(API_LOG, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/stack/server.ts')], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, ...stackEnv() },
  });
  child.unref();
  writeFileSync(API_PID, String(child.pid));
  await waitFor(async () => {
    if (!pidAlive(child.pid!)) throw new Error(`the API exited at start; see ${API_LOG}`);
    return apiAnswers();
  }, 'the API');
}

export async function stopApi() {
  const pid = readPid();
  if (pid !== null) {
    process.kill(pid, 'SIGTERM');
    await waitFor(async () => !pidAlive(pid), 'API shutdown', 15_000).catch(() => process.kill(pid, 'SIGKILL'));
  }
  if (existsSync(API_PID)) unlinkSync(API_PID);
}

/** `npm start`: everything in this process's foreground; Ctrl-C stops all of it. */
export async function runForeground() {
  if ((await apiStatus()) || (await apiAnswers())) {
    console.error(`A stack is already running at ${API_URL} (stop it with \`npm run stack -- down\`).`);
    process.exit(1);
  }
  await upDatabase();
  Object.assign(process.env, stackEnv());
  const { startServer } = await import('./server.ts');
  const server = await startServer();
  writeFileSync(API_PID, String(process.pid));
  const env = stackEnv();
  console.log(`
supabase-ai-cache local stack is running.

         API URL: ${env.SUPABASE_URL}
        REST URL: ${env.SUPABASE_URL}/rest/v1
   Functions URL: ${env.SUPABASE_URL}/functions/v1
        Auth URL: ${env.SUPABASE_URL}/auth/v1 (e-mail + password; add users with \`npm run stack -- user add\`)
   Dashboard URL: ${env.AI_DASHBOARD_URL}
          DB URL: ${DB_URL}
 Publishable key: ${env.SUPABASE_PUBLISHABLE_KEY}
      Secret key: ${env.SUPABASE_SECRET_KEY}
      JWT secret: ${env.SUPABASE_JWT_SECRET}
        anon key: ${env.SUPABASE_ANON_KEY} (legacy)
service_role key: ${env.SUPABASE_SERVICE_ROLE_KEY} (legacy)
     OpenAI base: ${env.OPENAI_BASE_URL}${process.env.OPENAI_API_KEY ? '' : ' (simulated: OPENAI_API_KEY is unset)'}
   metrics token: ${env.AI_METRICS_TOKEN} (Authorization: Bearer … on /functions/v1/ai-metrics)

Try it (the quote form's suggestions, as a public page calls it):
  curl -s ${env.SUPABASE_URL}/functions/v1/ai-suggest \\
    -H "apikey: ${env.SUPABASE_PUBLISHABLE_KEY}" \\
    -H "Content-Type: application/json" -d '{"description_projet": "Site web pour mon restaurant"}'

Press Ctrl-C to stop.`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping…');
    await server.close();
    if (existsSync(API_PID)) unlinkSync(API_PID);
    await stopPostgres();
    console.log('stopped');
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
