// Serves the monitoring dashboard (dashboard/) at /dashboard/ on the gateway. The page needs
// only the project URL and the anon key, handed over at serve time as /dashboard/config.js.
// The static build is made on start when the sources changed since the last one (a content
// hash), in the background: requests wait for it, the API's health does not.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
};

export interface DashboardHostOptions {
  root: string;
  supabaseUrl: string;
  anonKey: string;
}

export interface DashboardHost {
  ready: Promise<void>;
  handle(req: IncomingMessage, res: ServerResponse, subpath: string): Promise<void>;
}

function sourceHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name === 'dist' || e.name === 'node_modules' || e.name.startsWith('.')) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else h.update(p.slice(dir.length)).update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}

/** Builds dashboard/dist unless it is current; concurrent builders each write their own folder and swap it in. */
export async function buildDashboard(root: string, log: (s: string) => void = console.log): Promise<string> {
  const dir = path.join(root, 'dashboard');
  const dist = path.join(dir, 'dist');
  const stamp = path.join(dist, '.source-hash');
  const hash = sourceHash(dir);
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return dist;
  const out = path.join(dir, `.dist-${process.pid}`);
  log('building the dashboard (vite)…');
  const t0 = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [
      path.join(root, 'node_modules/vite/bin/vite.js'),
      'build',
      '--outDir',
      out,
      '--emptyOutDir',
      '--logLevel',
      'warn',
    ], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on(
      'close',
      (code) => (code === 0 ? resolve() : reject(new Error(`vite build failed (${code}):\n${output}`))),
    );
  });
  writeFileSync(path.join(out, '.source-hash'), hash);
  try {
    rmSync(dist, { recursive: true, force: true });
    renameSync(out, dist);
  } catch (e) {
    // Another stack of this checkout swapped its build in meanwhile: same sources, keep theirs.
    rmSync(out, { recursive: true, force: true });
    if (!(existsSync(stamp) && readFileSync(stamp, 'utf8') === hash)) throw e;
  }
  log(`dashboard built in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  return dist;
}

export function createDashboardHost(opts: DashboardHostOptions): DashboardHost {
  let dist = '';
  let failure: Error | undefined;
  const ready = buildDashboard(opts.root).then(
    (d) => void (dist = d),
    (e: Error) => {
      failure = e;
      console.error(e.message);
    },
  );
  const config = `window.AI_DASHBOARD_CONFIG = ${
    JSON.stringify({ supabaseUrl: opts.supabaseUrl, supabaseAnonKey: opts.anonKey })
  };\n`;

  return {
    ready,
    async handle(req, res, subpath) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { 'content-type': 'application/json', allow: 'GET, HEAD' });
        return void res.end(JSON.stringify({ message: 'the dashboard is read with GET' }));
      }
      if (subpath === '') {
        res.writeHead(308, { location: '/dashboard/' });
        return void res.end();
      }
      if (subpath === '/config.js') {
        res.writeHead(200, { 'content-type': TYPES['.js']!, 'cache-control': 'no-store' });
        return void res.end(config);
      }
      await ready;
      if (failure) {
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
        return void res.end(`The dashboard could not be built; see the API log.\n\n${failure.message}`);
      }
      let rel: string;
      try {
        rel = path.normalize(decodeURIComponent(subpath));
      } catch {
        rel = '/index.html'; // a malformed %-escape names no file
      }
      let file = path.join(dist, rel);
      if (!file.startsWith(dist) || !existsSync(file) || statSync(file).isDirectory()) {
        file = path.join(dist, 'index.html');
      }
      const ext = path.extname(file);
      res.writeHead(200, {
        'content-type': TYPES[ext] ?? 'application/octet-stream',
        // Hashed asset names never change content; the page itself always revalidates.
        'cache-control': rel.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      });
      res.end(req.method === 'HEAD' ? undefined : readFileSync(file));
    },
  };
}
