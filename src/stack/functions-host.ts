// Serves every folder of supabase/functions/ the way the Supabase edge runtime does: each function
// runs its own index.ts unchanged in Deno (`Deno.serve` bound through DENO_SERVE_ADDRESS), with
// the env vars a hosted function gets; `verify_jwt` from config.toml is enforced in front of it.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { parse as parseToml } from 'smol-toml';
import { jwtVerify } from 'jose';
import { LISTENING_MARKER } from './functions-preload-marker.ts';

export interface FunctionsHostOptions {
  functionsDir: string;
  configToml?: string;
  denoBin: string;
  denoConfig?: string;
  /** Run before each function's index.ts (see functions-preload.ts). */
  preload?: string;
  basePort: number;
  jwtSecret: string;
  env: Record<string, string>;
  /** Wins over supabase/functions/.env too (npm test pins the simulated model this way). */
  pinnedEnv?: Record<string, string>;
}

interface FunctionWorker {
  name: string;
  port: number;
  verifyJwt: boolean;
  child?: ChildProcess;
  ready?: Promise<void>;
}

export interface FunctionsHost {
  names(): string[];
  /** Boots every function now, so the first request does not pay Deno's start-up. */
  warmAll(): Promise<void>;
  handle(req: IncomingMessage, res: ServerResponse, name: string, rest: string, search: string): Promise<void>;
  close(): Promise<void>;
}

// No Nagle: a proxied request is written as headers then body, and waiting for the first
// segment's ACK would add the receiver's delayed-ACK time to every call.
const agent = new http.Agent({ keepAlive: true, maxSockets: 256, noDelay: true } as http.AgentOptions);

function sendJson(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
  res.end(text);
}

/** Reads `[functions.<name>] verify_jwt` from config.toml; true unless said otherwise, as the CLI does. */
function readVerifyJwt(configToml?: string): Record<string, boolean> {
  if (!configToml || !existsSync(configToml)) return {};
  const conf = parseToml(readFileSync(configToml, 'utf8')) as { functions?: Record<string, { verify_jwt?: boolean }> };
  const out: Record<string, boolean> = {};
  for (const [name, f] of Object.entries(conf.functions ?? {})) {
    if (typeof f.verify_jwt === 'boolean') out[name] = f.verify_jwt;
  }
  return out;
}

/** `supabase/functions/.env` holds secrets for local serving, as with `supabase functions serve` (dotenv syntax). */
function readDotEnv(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  return parseEnv(readFileSync(file, 'utf8')) as Record<string, string>;
}

/** Resolves once the worker announced it listens (LISTENING_MARKER), rejects if it exits or the time is up. */
function untilListening(listening: Promise<void>, child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not listening after ${timeoutMs} ms`)), timeoutMs);
    const onExit = (code: number | null) => reject(new Error(`exited with code ${code}`));
    child.once('exit', onExit);
    void listening.then(() => {
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve();
    });
  });
}

/** Probes the port until it accepts a connection (a connection to itself does not count). */
function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`exited with code ${child.exitCode}`));
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => {
        const self = sock.localPort === port;
        sock.destroy();
        if (self) setTimeout(attempt, 100);
        else resolve();
      });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`not listening on ${port} after ${timeoutMs} ms`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

export function createFunctionsHost(opts: FunctionsHostOptions): FunctionsHost {
  const verify = readVerifyJwt(opts.configToml);
  const secret = new TextEncoder().encode(opts.jwtSecret);
  const dotEnv = readDotEnv(path.join(opts.functionsDir, '.env'));
  const workers = new Map<string, FunctionWorker>();
  let closed = false;

  const names = existsSync(opts.functionsDir)
    ? readdirSync(opts.functionsDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('_') && !d.name.startsWith('.'))
      .filter((d) => existsSync(path.join(opts.functionsDir, d.name, 'index.ts')))
      .map((d) => d.name)
      .sort()
    : [];
  names.forEach((name, i) => workers.set(name, { name, port: opts.basePort + i, verifyJwt: verify[name] ?? true }));

  // Workers start on first use and are restarted if they die, like the edge runtime's workers.
  function ensureWorker(w: FunctionWorker): Promise<void> {
    if (w.ready && w.child && w.child.exitCode === null) return w.ready;
    // --frozen: the committed deno.lock decides every dependency (a mismatch is an error, never
    // a silent re-resolution); once fetched, packages come from Deno's cache, offline too.
    const args = ['run', '--allow-all', '--no-prompt', '--quiet', '--frozen'];
    // A function's own deno.json (what `supabase functions deploy` bundles with) wins.
    const own = path.join(opts.functionsDir, w.name, 'deno.json');
    const config = existsSync(own) ? own : opts.denoConfig;
    if (config) args.push('--config', config);
    if (opts.preload) args.push('--preload', opts.preload);
    args.push(path.join(opts.functionsDir, w.name, 'index.ts'));
    const child = spawn(opts.denoBin, args, {
      cwd: path.dirname(opts.functionsDir),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...opts.env,
        ...dotEnv,
        ...opts.pinnedEnv,
        DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${w.port}`,
        SB_EXECUTION_ID: w.name,
        NO_COLOR: '1',
      },
    });
    const prefix = `[fn ${w.name}] `;
    let announced: () => void = () => {};
    const listening = new Promise<void>((r) => (announced = r));
    child.stdout!.on('data', (d: Buffer) => {
      let text = d.toString();
      if (text.includes(LISTENING_MARKER)) {
        announced();
        text = text.split('\n').filter((l) => !l.includes(LISTENING_MARKER)).join('\n');
      }
      if (text.trim()) process.stdout.write(prefix + text.replace(/\n(?=.)/g, '\n' + prefix));
    });
    // The end of stderr says why a function did not boot (a configuration error, a bad import).
    let stderrTail = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderrTail = (stderrTail + d.toString()).slice(-2000);
      process.stderr.write(prefix + d.toString().replace(/\n(?=.)/g, '\n' + prefix));
    });
    w.child = child;
    // With the preload, the worker says when it listens; without it, the port is probed.
    const up = opts.preload ? untilListening(listening, child, 60_000) : waitForPort(w.port, child, 60_000);
    w.ready = up.catch((e: Error) => {
      w.ready = undefined;
      const why = stderrTail.trim() ? `: ${stderrTail.trim()}` : '';
      throw new Error(`function ${w.name} failed to boot: ${e.message}${why}`);
    });
    return w.ready;
  }

  // Verified tokens are remembered until they expire: clients send the same JWT on every call.
  const verified = new Map<string, number>();
  async function checkJwt(req: IncomingMessage): Promise<string | null> {
    const header = req.headers.authorization;
    if (!header) return 'Missing authorization header';
    const [scheme, token] = header.split(' ');
    if (scheme !== 'Bearer' || !token) return "Auth header is not 'Bearer {token}'";
    const known = verified.get(token);
    if (known !== undefined && known > Date.now()) return null;
    try {
      const { payload } = await jwtVerify(token, secret, { algorithms: ['HS256'] });
      if (verified.size > 10_000) verified.clear();
      verified.set(token, payload.exp ? payload.exp * 1000 : Date.now() + 60_000);
      return null;
    } catch {
      return 'Invalid JWT';
    }
  }

  return {
    names: () => [...names],
    async warmAll() {
      // A function that fails to boot must not take the others down: it answers 503 with the
      // reason and is retried on its next request.
      const results = await Promise.allSettled([...workers.values()].map(ensureWorker));
      for (const r of results) if (r.status === 'rejected') console.error(String(r.reason?.message ?? r.reason));
    },
    async handle(req, res, name, rest, search) {
      const w = workers.get(name);
      if (!w) return sendJson(res, 404, { code: 'NOT_FOUND', message: `Requested function "${name}" was not found` });
      // Preflight never carries credentials, so it goes to the function (its CORS answer) unchecked.
      if (w.verifyJwt && req.method !== 'OPTIONS') {
        const problem = await checkJwt(req);
        if (problem) return sendJson(res, 401, { code: 401, message: problem });
      }
      try {
        await ensureWorker(w);
      } catch (e) {
        return sendJson(res, 503, { code: 'BOOT_ERROR', message: (e as Error).message });
      }
      const upstream = http.request(
        {
          host: '127.0.0.1',
          port: w.port,
          method: req.method,
          path: `/${name}${rest}${search}`,
          headers: {
            ...req.headers,
            host: `127.0.0.1:${w.port}`,
            // The platform's gateway tells functions who called, as Kong does on a hosted project.
            'x-forwarded-for': [req.headers['x-forwarded-for'], req.socket.remoteAddress].filter(Boolean).join(', '),
          },
          agent,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
          res.once('close', () => up.destroy());
        },
      );
      upstream.on('error', (e) => {
        // The caller must get an answer, not a reset: read what it is still sending.
        if (!req.complete) req.unpipe(upstream).resume();
        if (!res.headersSent) sendJson(res, 502, { code: 'WORKER_ERROR', message: `function ${name}: ${e.message}` });
        else if (!res.writableFinished) res.destroy();
      });
      req.once('aborted', () => upstream.destroy());
      // Small bodies go out with the headers in one write; anything else streams through.
      const length = Number(req.headers['content-length'] ?? NaN);
      if (length >= 0 && length <= 256 * 1024) {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => upstream.end(Buffer.concat(chunks)));
      } else {
        req.pipe(upstream);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      const exits = [...workers.values()]
        .filter((w) => w.child && w.child.exitCode === null)
        .map((w) =>
          new Promise<void>((r) => {
            w.child!.once('exit', () => r());
            w.child!.kill('SIGTERM');
          })
        );
      await Promise.all(exits);
      agent.destroy();
    },
  };
}
