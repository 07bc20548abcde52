// The API on port 54321, laid out like a Supabase project's gateway: /rest/v1 (PostgREST
// protocol), /functions/v1/<name> (Edge Functions in Deno), plus the simulated OpenAI server.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  API_PORT,
  AUTHENTICATOR_URL,
  denoExecutable,
  FORCE_SIMULATED_MODEL,
  FUNCTIONS_BASE_PORT,
  JWT_SECRET,
  PUBLISHABLE_KEY,
  ROOT,
  SECRET_KEY,
  SIM_OPENAI_PORT,
  stackEnv,
} from './config.ts';
import { createFunctionsHost, type FunctionsHost } from './functions-host.ts';
import { createRestHandler, type RestHandler } from '../rest/index.ts';
import { createAuthHandler } from '../auth/index.ts';
import { createDashboardHost } from './dashboard-host.ts';
import { type SimOpenAI, startSimOpenAI } from '../sim-openai/server.ts';

// Kong's CORS plugin on a hosted project answers preflights for the REST API.
const REST_CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS',
  'access-control-allow-headers':
    'authorization, x-client-info, apikey, content-type, content-profile, accept-profile, prefer, range, range-unit, x-upsert',
  'access-control-expose-headers': 'content-range, content-location, x-total-count',
  'access-control-max-age': '3600',
};

export interface ServerOptions {
  port?: number;
  functionsDir?: string;
  /** Start the simulated OpenAI server (default: when OPENAI_API_KEY is unset). */
  simOpenAI?: boolean;
}

export interface RunningServer {
  url: string;
  functions: FunctionsHost;
  rest: RestHandler;
  sim?: SimOpenAI;
  close(): Promise<void>;
}

/**
 * postgres.js starts a type-fetch query on every fresh connection that nobody awaits; when the
 * database goes away at that moment (a restart, a crash) the rejection is unhandled, and
 * Node would end the gateway. Such a connection error is already answered as a 503 where it
 * matters and the connection is replaced, so it is logged and survived; anything else still
 * ends the process as usual.
 */
let survivesDbDrops = false;
function surviveDatabaseDrops() {
  if (survivesDbDrops) return;
  survivesDbDrops = true;
  process.on('unhandledRejection', (reason) => {
    const code = (reason as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && /^(CONNECTION_|ECONN|EPIPE|57P0)/.test(code)) {
      console.error(`[rest] database connection lost (${code}); reconnecting on the next request`);
      return;
    }
    throw reason;
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json', ...REST_CORS });
  res.end(JSON.stringify(body));
}

export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  surviveDatabaseDrops();
  const env = stackEnv();
  const wantSim = FORCE_SIMULATED_MODEL || (opts.simOpenAI ?? !process.env.OPENAI_API_KEY);
  const sim = wantSim ? await startSimOpenAI({ port: SIM_OPENAI_PORT }) : undefined;
  const rest = await createRestHandler({
    dbUrl: AUTHENTICATOR_URL,
    jwtSecret: JWT_SECRET,
    schemas: ['public'],
    maxRows: 1000,
    apiKeys: { publishable: [PUBLISHABLE_KEY], secret: [SECRET_KEY] },
  });
  const auth = createAuthHandler({
    dbUrl: env.SUPABASE_DB_URL,
    jwtSecret: JWT_SECRET,
    issuer: `${env.SUPABASE_URL}/auth/v1`,
  });
  const dashboard = createDashboardHost({ root: ROOT, supabaseUrl: env.SUPABASE_URL, anonKey: env.SUPABASE_ANON_KEY });
  const functions = createFunctionsHost({
    functionsDir: opts.functionsDir ?? path.join(ROOT, 'supabase/functions'),
    configToml: path.join(ROOT, 'supabase/config.toml'),
    denoBin: denoExecutable(),
    denoConfig: path.join(ROOT, 'deno.json'),
    preload: path.join(ROOT, 'src/stack/functions-preload.ts'),
    basePort: FUNCTIONS_BASE_PORT,
    jwtSecret: JWT_SECRET,
    env: {
      SUPABASE_URL: env.SUPABASE_URL,
      // As on a hosted project: the new keys as JSON dictionaries, the legacy ones alongside.
      SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({ default: PUBLISHABLE_KEY }),
      SUPABASE_SECRET_KEYS: JSON.stringify({ default: SECRET_KEY }),
      SUPABASE_ANON_KEY: env.SUPABASE_ANON_KEY,
      SUPABASE_SERVICE_ROLE_KEY: env.SUPABASE_SERVICE_ROLE_KEY,
      SUPABASE_DB_URL: env.SUPABASE_DB_URL,
      SUPABASE_JWT_SECRET: env.SUPABASE_JWT_SECRET,
      OPENAI_BASE_URL: sim ? sim.url : env.OPENAI_BASE_URL,
      OPENAI_API_KEY: process.env.OPENAI_API_KEY ?? 'sk-simulated-local',
      AI_METRICS_TOKEN: env.AI_METRICS_TOKEN,
    },
    // npm test: not even supabase/functions/.env may point the functions at a paid model.
    pinnedEnv: FORCE_SIMULATED_MODEL && sim
      ? { OPENAI_API_KEY: 'sk-simulated-local', OPENAI_BASE_URL: sim.url }
      : undefined,
  });

  const server = http.createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q === -1 ? url : url.slice(0, q);
    const search = q === -1 ? '' : url.slice(q);
    try {
      if (pathname.startsWith('/rest/v1')) {
        if (req.method === 'OPTIONS') {
          res.writeHead(200, REST_CORS);
          return res.end();
        }
        for (const [k, v] of Object.entries(REST_CORS)) res.setHeader(k, v);
        return await rest.handle(req, res, pathname.slice('/rest/v1'.length) || '/', new URLSearchParams(search));
      }
      if (pathname.startsWith('/auth/v1/')) {
        return await auth.handle(req, res, pathname.slice('/auth/v1'.length), new URLSearchParams(search));
      }
      if (pathname === '/dashboard' || pathname.startsWith('/dashboard/')) {
        return await dashboard.handle(req, res, pathname.slice('/dashboard'.length));
      }
      if (pathname.startsWith('/functions/v1/')) {
        const tail = pathname.slice('/functions/v1/'.length);
        const slash = tail.indexOf('/');
        const name = slash === -1 ? tail : tail.slice(0, slash);
        const rest = slash === -1 ? '' : tail.slice(slash);
        return await functions.handle(req, res, name, rest, search);
      }
      if (pathname === '/health') return sendJson(res, 200, { status: 'ok', functions: functions.names() });
      return sendJson(res, 404, {
        message: `no route for ${pathname}: this local stack serves /rest/v1, /auth/v1, /functions/v1 and /dashboard/`,
      });
    } catch (e) {
      console.error(e);
      if (!res.headersSent) sendJson(res, 500, { message: 'internal error in the local gateway' });
      else res.destroy();
    }
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? API_PORT, '127.0.0.1', () => resolve());
  });
  await functions.warmAll();
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    functions,
    rest,
    sim,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await Promise.all([functions.close(), rest.close(), auth.close(), sim?.close()]);
    },
  };
}

// Run directly (the background process `stack up` spawns).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const running = await startServer();
  console.log(`API listening on ${running.url}${running.sim ? `; simulated OpenAI at ${running.sim.url}` : ''}`);
  const stop = async () => {
    await running.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
