// What every command gets: a connected backend, the output mode, and a way to print.
import type { Command } from 'commander';
import { type Backend, connect, resolveConnection } from './connect.ts';

export interface GlobalOptions {
  dbUrl?: string;
  url?: string;
  serviceKey?: string;
  json?: boolean;
  quiet?: boolean;
}

export interface Context {
  backend: Backend;
  json: boolean;
  quiet: boolean;
  /** stdout, one line (or block) per call. */
  print(text: string): void;
  printJson(value: unknown): void;
}

/** Connects with the global options, runs the command, always closes the connection. */
export async function withContext(cmd: Command, run: (ctx: Context) => Promise<void>): Promise<void> {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  const backend = connect(resolveConnection({ dbUrl: g.dbUrl, url: g.url, serviceKey: g.serviceKey }));
  const ctx: Context = {
    backend,
    json: Boolean(g.json),
    quiet: Boolean(g.quiet),
    print: (text) => void process.stdout.write(`${text}\n`),
    printJson: (value) => void process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
  };
  try {
    await run(ctx);
  } finally {
    await backend.close();
  }
}
