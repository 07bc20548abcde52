// Exit codes scripts can rely on, and the one error type every command throws.
//   0  success (also: nothing matched, nothing to delete)
//   1  operational error: cannot connect, credentials refused, missing RPCs, database/API error
//   2  usage error: bad or missing option, missing configuration, confirmation needed but
//      stdin is not a terminal (pass --yes)
//   3  aborted by the user at the confirmation prompt (nothing was deleted)
// 130 interrupted (Ctrl-C) during a batched delete: the batches already done stay deleted
export const EXIT = { OK: 0, FAILURE: 1, USAGE: 2, ABORTED: 3, INTERRUPTED: 130 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    /** Stable machine-readable code, printed in --json error output. */
    readonly code: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export function usageError(message: string, hint?: string): CliError {
  return new CliError(message, EXIT.USAGE, 'usage', hint);
}
