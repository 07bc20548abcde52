#!/usr/bin/env node
// `ai-cache` launcher (package.json "bin"): runs the TypeScript CLI in src/cli through tsx,
// which is a runtime dependency of this package. Exit codes: see src/cli/errors.ts.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// supabase-js needs a native WebSocket at createClient (Node 22+); Node 20 has one behind a flag.
if (typeof globalThis.WebSocket === 'undefined' && !process.execArgv.includes('--experimental-websocket')) {
  const r = spawnSync(process.execPath, [
    '--experimental-websocket',
    ...process.execArgv,
    fileURLToPath(import.meta.url),
    ...process.argv.slice(2),
  ], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

register();
await import('../src/cli/main.ts');
