// One real function served by its own functions host, with the env a test chooses: for what
// the running stack's fixed env cannot show (another project's keys, a bad configuration).
import { cpSync, mkdtempSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { denoExecutable, JWT_SECRET, ROOT } from '../../src/stack/config.ts';
import { createFunctionsHost } from '../../src/stack/functions-host.ts';

export interface OneFunction {
  url: string;
  close(): Promise<void>;
}

/** Serves supabase/functions/<name> (with _shared) on `portOffset` past FUNCTIONS_BASE_PORT. */
export async function serveFunction(
  name: string,
  env: Record<string, string>,
  portOffset: number,
): Promise<OneFunction> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `fn-${name}-`));
  for (const d of ['_shared', name]) {
    cpSync(path.join(ROOT, 'supabase/functions', d), path.join(dir, d), { recursive: true });
  }
  const host = createFunctionsHost({
    functionsDir: dir,
    configToml: path.join(ROOT, 'supabase/config.toml'),
    denoBin: denoExecutable(),
    denoConfig: path.join(ROOT, 'deno.json'),
    preload: path.join(ROOT, 'src/stack/functions-preload.ts'),
    basePort: Number(process.env.FUNCTIONS_BASE_PORT ?? 54340) + portOffset,
    jwtSecret: JWT_SECRET,
    env,
  });
  const server = http.createServer((req, res) => void host.handle(req, res, name, '', ''));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await host.close();
    },
  };
}
