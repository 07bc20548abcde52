// The real Edge Functions, served by a second functions host with other secrets (e.g. a
// short AI_CACHE_LEASE_MS or AI_MODEL_DEADLINE_MS), against the same database and simulated
// model as the stack: what a deployment with those settings would do, without restarting
// the stack the other suites share.
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { denoExecutable, ROOT } from '../../src/stack/config.ts';
import { createFunctionsHost } from '../../src/stack/functions-host.ts';
import { ANON_KEY, DB_URL, JWT_SECRET, OPENAI_BASE_URL, SERVICE_ROLE_KEY, SUPABASE_URL } from './stack.ts';

export interface TunedFunctions {
  /** Base URL of the functions: `${url}/ai-chat`, `${url}/ai-suggest`. */
  url: string;
  close(): Promise<void>;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** `count` consecutive free ports below the kernel's ephemeral range (no outgoing socket takes them). */
async function freePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error('no free port range for the tuned functions host');
}

export async function startTunedFunctions(env: Record<string, string>): Promise<TunedFunctions> {
  const functionsDir = path.join(ROOT, 'supabase/functions');
  const host = createFunctionsHost({
    functionsDir,
    configToml: path.join(ROOT, 'supabase/config.toml'),
    denoBin: denoExecutable(),
    denoConfig: path.join(ROOT, 'deno.json'),
    basePort: await freePorts(8),
    jwtSecret: JWT_SECRET,
    env: {
      SUPABASE_URL,
      SUPABASE_ANON_KEY: ANON_KEY,
      SUPABASE_SERVICE_ROLE_KEY: SERVICE_ROLE_KEY,
      SUPABASE_DB_URL: DB_URL,
      SUPABASE_JWT_SECRET: JWT_SECRET,
      OPENAI_BASE_URL,
      OPENAI_API_KEY: process.env.OPENAI_API_KEY ?? 'sk-simulated-local',
      ...env,
    },
  });
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const [, , , name, ...rest] = u.pathname.split('/');
    void host.handle(req, res, name, rest.length ? '/' + rest.join('/') : '', u.search);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/functions/v1`;
  return {
    url,
    async close() {
      server.closeAllConnections();
      server.close();
      await host.close();
    },
  };
}
