/** A CLI failure with its exit code: 2 for usage (bad flags, arguments), 1 for runtime failures. */
export class CliError extends Error {
  readonly exitCode: number;
  readonly hint: string | undefined;
  constructor(message: string, opts: { exitCode?: number; hint?: string } = {}) {
    super(message);
    this.name = 'CliError';
    this.exitCode = opts.exitCode ?? 1;
    this.hint = opts.hint;
  }
}

export const usageError = (message: string, hint?: string) =>
  new CliError(message, { exitCode: 2, hint: hint ?? "run 'moe-bench --help' for usage" });
