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
