/**
 * The one error type the engine throws for bad input. It names the file and field involved and
 * what was expected, so the CLI and UI can show one clear line plus a hint.
 */
export class EngineError extends Error {
  readonly file: string | undefined;
  readonly field: string | undefined;
  readonly hint: string | undefined;

  constructor(message: string, opts: { file?: string; field?: string; hint?: string; cause?: unknown } = {}) {
    const where = [opts.file, opts.field].filter(Boolean).join(': ');
    super(
      where ? `${where}: ${message}` : message,
      opts.cause === undefined ? undefined : { cause: opts.cause },
    );
    this.name = 'EngineError';
    this.file = opts.file;
    this.field = opts.field;
    this.hint = opts.hint;
  }
}

/** Thrown when a job is cancelled; runners catch it and record the run as `cancelled`. */
export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

/** What an error says: its message (or name), a thrown string, or a generic line. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return typeof e === 'string' ? e : 'unexpected error';
}

/** The hint an error carries (EngineError, StoreError, CliError, ApiError each may), if any. */
export function errorHint(e: unknown): string | undefined {
  const hint = typeof e === 'object' && e !== null ? (e as { hint?: unknown }).hint : undefined;
  return typeof hint === 'string' && hint !== '' ? hint : undefined;
}

/** A message with its hint in parentheses, for a reader who sees no separate hint line. */
export function withHint(message: string, hint: string | undefined): string {
  return hint ? `${message} (${hint})` : message;
}

/** One line for a run's error or a wire message: the message, then the hint in parentheses. */
export function errorLine(e: unknown): string {
  return withHint(errorMessage(e), errorHint(e));
}
