// npm test's own stack: a fresh state folder and free ports per run, and an environment from
// which nothing can reach the developer's stack or a paid model. Applied to process.env before
// any stack module is loaded (their settings are read from the environment at import).
import { chmodSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Ports of one stack: db, api, simulated OpenAI, then function workers from +10 (test fixtures from +50). */
const BLOCK = 64;

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A block of consecutive free ports below Linux's ephemeral range (32768+), picked at random. */
async function freePortBlock(size: number): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * (12_000 - size));
    let free = true;
    for (let p = base; p < base + size && free; p++) free = await portFree(p);
    if (free) return base;
  }
  throw new Error(`no block of ${size} free ports found between 20000 and 32000`);
}

/** Variables that would point the suites or the functions elsewhere: the developer's, not the run's. */
function isForeign(name: string): boolean {
  return name.startsWith('OPENAI_') || name.startsWith('AI_') || name.startsWith('SUPABASE_') ||
    name === 'STACK_STATE_DIR' || name === 'FUNCTIONS_BASE_PORT' || name === 'SIM_OPENAI_PORT';
}

export interface IsolatedStack {
  stateDir: string;
  ports: { db: number; api: number; sim: number; functions: number };
}

export async function isolateEnvironment(): Promise<IsolatedStack> {
  for (const name of Object.keys(process.env)) if (isForeign(name)) delete process.env[name];
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'ai-cache-test-'));
  // Traversable, so the server's OS user (postgres, when root runs the tests) reaches the cluster.
  chmodSync(stateDir, 0o755);
  const base = await freePortBlock(BLOCK);
  const ports = { db: base, api: base + 1, sim: base + 2, functions: base + 10 };
  Object.assign(process.env, {
    STACK_STATE_DIR: stateDir,
    SUPABASE_DB_PORT: String(ports.db),
    SUPABASE_API_PORT: String(ports.api),
    SIM_OPENAI_PORT: String(ports.sim),
    FUNCTIONS_BASE_PORT: String(ports.functions),
    STACK_FORCE_SIMULATED_MODEL: '1',
  });
  return { stateDir, ports };
}
