// The confirmation prompt of destructive commands. It is read from a terminal only: a script
// (stdin not a TTY) must say --yes, so piping `yes` into the CLI never deletes by accident.
import { createInterface } from 'node:readline';
import { CliError, EXIT } from './errors.ts';

export async function confirmOrThrow(
  question: string,
  opts: { yes?: boolean; input?: NodeJS.ReadStream; output?: NodeJS.WriteStream } = {},
): Promise<void> {
  if (opts.yes) return;
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stderr;
  if (!input.isTTY) {
    throw new CliError(
      'confirmation required but stdin is not a terminal: nothing was deleted',
      EXIT.USAGE,
      'confirmation_required',
      'pass --yes to confirm from a script',
    );
  }
  // Ctrl-C and Ctrl-D at the prompt count as "no".
  const answer = await new Promise<string>((resolve) => {
    const rl = createInterface({ input, output });
    let settled = false;
    const done = (a: string) => {
      if (settled) return;
      settled = true;
      rl.close();
      resolve(a);
    };
    rl.on('SIGINT', () => {
      output.write('\n');
      done('');
    });
    rl.on('close', () => done(''));
    rl.question(`${question} [y/N] `, done);
  });
  if (!/^(y|yes)$/i.test(answer.trim())) {
    throw new CliError('aborted: nothing was deleted', EXIT.ABORTED, 'aborted');
  }
}
