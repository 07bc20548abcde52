// The deleting commands. All three count first (the progress total), then delete in batches
// (one short transaction each, see batchedDelete), so they are safe while traffic flows.
//   clean --older-than 30d | --expired   routine retention, no prompt (cron-friendly)
//   clear [--company ID | --global] [--type T]   asks for confirmation (--yes for scripts)
//   purge --model M | --key-version V    drop what an old model or key scheme produced
import type { Command } from 'commander';
import { batchedDelete, type CacheFilter, countEntries } from '../api.ts';
import { confirmOrThrow } from '../confirm.ts';
import { type Context, withContext } from '../context.ts';
import { EXIT, usageError } from '../errors.ts';
import { createProgress, entries, fmtInt, fmtSeconds } from '../format.ts';
import {
  describeFilter,
  filterJson,
  intInRange,
  parseCacheType,
  parseCompanyId,
  parseDuration,
  parseNonEmpty,
  scopeFilter,
  type ScopeOptions,
} from '../options.ts';

interface DeleteOptions extends ScopeOptions {
  batchSize: number;
  dryRun?: boolean;
  yes?: boolean;
}

interface CleanOptions extends DeleteOptions {
  olderThan?: number;
  expired?: boolean;
}

interface PurgeOptions extends DeleteOptions {
  model?: string;
  keyVersion?: number;
}

function scopeOptions(cmd: Command): Command {
  return cmd
    .option('--company <id>', 'one company only', parseCompanyId)
    .option('--global', 'the global scope only (entries shared by every company)')
    .option('--type <type>', 'one cache type only (chat, suggestions, ...)', parseCacheType)
    .option('--batch-size <n>', 'rows per batch (one short transaction each)', intInRange(1, 100000), 5000)
    .option('--dry-run', 'only count what would be deleted');
}

export function registerDeleteCommands(program: Command): void {
  scopeOptions(
    program
      .command('clean')
      .description('delete old or expired entries in batches (what the nightly cron job does for expired ones)')
      .option(
        '--older-than <age>',
        'entries created more than this long ago: 30d, 12h, 90m, 2w (a bare number means days)',
        parseDuration,
      )
      .option('--expired', 'entries past their expiry'),
  ).action(async (opts: CleanOptions, cmd: Command) => {
    if (opts.olderThan === undefined && !opts.expired) {
      throw usageError('clean needs --older-than <age> and/or --expired', 'e.g. ai-cache clean --older-than 30d');
    }
    const f: CacheFilter = {
      ...scopeFilter(opts),
      olderThanSeconds: opts.olderThan,
      expiredOnly: opts.expired || undefined,
    };
    await withContext(cmd, (ctx) => runDelete(ctx, 'clean', f, opts, { confirm: false }));
  });

  scopeOptions(
    program
      .command('clear')
      .description('delete every entry (of a company, the global scope or a type): asks for confirmation')
      .option('-y, --yes', 'do not ask for confirmation (required when stdin is not a terminal)'),
  ).action(async (opts: DeleteOptions, cmd: Command) => {
    const f = scopeFilter(opts);
    await withContext(cmd, (ctx) => runDelete(ctx, 'clear', f, opts, { confirm: true }));
  });

  scopeOptions(
    program
      .command('purge')
      .description('delete the entries produced by an old model or cache-key version')
      .option('--model <model>', 'entries produced by this model', parseNonEmpty('--model'))
      .option('--key-version <v>', 'entries whose cache key has this version', intInRange(1, 32767)),
  ).action(async (opts: PurgeOptions, cmd: Command) => {
    if (opts.model === undefined && opts.keyVersion === undefined) {
      throw usageError(
        'purge needs --model <model> and/or --key-version <v>',
        'e.g. ai-cache purge --model gpt-3.5-turbo',
      );
    }
    const f: CacheFilter = { ...scopeFilter(opts), model: opts.model, keyVersion: opts.keyVersion };
    await withContext(cmd, (ctx) => runDelete(ctx, 'purge', f, opts, { confirm: false }));
  });
}

async function runDelete(
  ctx: Context,
  command: 'clean' | 'clear' | 'purge',
  f: CacheFilter,
  opts: DeleteOptions,
  how: { confirm: boolean },
): Promise<void> {
  const what = describeFilter(f);
  const all = Object.keys(filterJson(f)).length === 0;
  const matched = await countEntries(ctx.backend, f);
  const base = { command, filter: filterJson(f), matched };

  if (opts.dryRun) {
    if (ctx.json) ctx.printJson({ ...base, deleted: 0, dry_run: true });
    else ctx.print(`${command}: would delete ${entries(matched)} (${what})`);
    return;
  }
  if (matched === 0) {
    if (ctx.json) ctx.printJson({ ...base, deleted: 0, batches: 0, seconds: 0, dry_run: false });
    else ctx.print(`${command}: nothing to delete (${what})`);
    return;
  }
  if (how.confirm) {
    const scope = all ? 'ALL' : '';
    await confirmOrThrow(`Delete ${scope ? `${scope} ` : ''}${entries(matched)} (${what})? This cannot be undone.`, {
      yes: opts.yes,
    });
  }

  // Ctrl-C: finish the batch in flight, report, exit 130. A second Ctrl-C exits at once.
  let stop = false;
  const onSigint = () => {
    if (stop) process.exit(EXIT.INTERRUPTED);
    stop = true;
  };
  process.on('SIGINT', onSigint);
  const progress = createProgress({ label: command, quiet: ctx.quiet });
  let result;
  try {
    result = await batchedDelete(ctx.backend, f, {
      batchSize: opts.batchSize,
      all,
      matched,
      onStart: (n) => progress.start(n),
      onBatch: (done) => progress.update(done),
      shouldStop: () => stop,
    });
  } finally {
    progress.finish();
    process.off('SIGINT', onSigint);
  }

  if (ctx.json) {
    ctx.printJson({
      ...base,
      deleted: result.deleted,
      batches: result.batches,
      seconds: round(result.seconds),
      dry_run: false,
      interrupted: result.interrupted,
    });
  } else {
    ctx.print(
      `${command}: deleted ${entries(result.deleted)} (${what}) in ${fmtSeconds(result.seconds)}, ${
        fmtInt(result.batches)
      } ${result.batches === 1 ? 'batch' : 'batches'}`,
    );
  }
  if (result.interrupted) {
    process.stderr.write(`ai-cache: interrupted after deleting ${fmtInt(result.deleted)} of ${entries(matched)}\n`);
    process.exitCode = EXIT.INTERRUPTED;
  }
}

const round = (s: number) => Math.round(s * 1000) / 1000;
