#!/usr/bin/env -S node --import tsx
// ai-cache: the admin CLI of supabase-ai-cache (manage_cache.py's successor).
//   ai-cache stats | top | clean | clear | purge   (--json on every command)
// Connection: SUPABASE_DB_URL (direct), or SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY (REST API).
// Exit codes: see errors.ts (0 ok, 1 operational, 2 usage, 3 aborted at the prompt, 130 Ctrl-C).
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerDeleteCommands } from './commands/delete.ts';
import { registerStats } from './commands/stats.ts';
import { registerTop } from './commands/top.ts';
import { CliError, EXIT } from './errors.ts';

const VERSION =
  (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const HELP_FOOTER = `
Connection (flags win over the environment; a database URL wins over the API URL):
  SUPABASE_DB_URL                               direct Postgres connection (postgres role)
  SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY      the project's REST API with the service-role key

Exit codes:
  0  success (including "nothing to delete")
  1  operational error: cannot connect, credentials refused, missing RPCs, database/API error
  2  usage error: bad option, missing configuration, confirmation needed but stdin is not a terminal
  3  aborted at the confirmation prompt (nothing deleted)
  130  interrupted by Ctrl-C during a batched delete (completed batches stay deleted)

Examples:
  ai-cache stats
  ai-cache stats --company 0f6c1e9e-3b1a-4c53-9a55-2f7d0e0c1a2b --json
  ai-cache top -n 20 --type suggestions
  ai-cache clean --expired
  ai-cache clean --older-than 30d
  ai-cache clear --company 0f6c1e9e-3b1a-4c53-9a55-2f7d0e0c1a2b --yes
  ai-cache purge --model gpt-3.5-turbo
  ai-cache purge --key-version 1 --dry-run`;

export function buildProgram(): Command {
  const program = new Command('ai-cache')
    .description('Administer the AI cache of a Supabase project: statistics, top entries, cleanup, purges.')
    .version(VERSION, '-V, --version')
    .option('--db-url <url>', 'Postgres connection string (default: $SUPABASE_DB_URL)')
    .option('--url <url>', 'Supabase API URL (default: $SUPABASE_URL)')
    .option('--service-key <key>', 'service-role key for the API (default: $SUPABASE_SERVICE_ROLE_KEY)')
    .option('--json', 'machine-readable JSON on stdout (errors too: {"error":{...}})')
    .option('-q, --quiet', 'no progress output on stderr')
    .showHelpAfterError('(run ai-cache --help for usage)')
    .addHelpText('after', HELP_FOOTER)
    .exitOverride();
  registerStats(program);
  registerTop(program);
  registerDeleteCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version print and succeed; anything else commander refused is a usage error
      // (commander has already printed its message on stderr).
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') {
        return EXIT.OK;
      }
      if (json) printJsonError('usage', e.message.replace(/^error: /, ''), EXIT.USAGE);
      return EXIT.USAGE;
    }
    if (e instanceof CliError) {
      process.stderr.write(`ai-cache: ${e.message}\n${e.hint ? `  hint: ${e.hint}\n` : ''}`);
      if (json) printJsonError(e.code, e.message, e.exitCode, e.hint);
      return e.exitCode;
    }
    process.stderr.write(`ai-cache: unexpected error: ${(e as Error)?.stack ?? String(e)}\n`);
    if (json) printJsonError('internal', (e as Error)?.message ?? String(e), EXIT.FAILURE);
    return EXIT.FAILURE;
  }
}

function printJsonError(code: string, message: string, exitCode: number, hint?: string): void {
  process.stdout.write(
    `${JSON.stringify({ error: { code, message, ...(hint ? { hint } : {}), exit_code: exitCode } }, null, 2)}\n`,
  );
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
// Exit as soon as nothing is pending; never hang on a stray handle (e.g. a paused stdin).
setTimeout(() => process.exit(code), 2000).unref();
