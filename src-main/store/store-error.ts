/** A store that cannot be opened or used as asked: unwritable folder, newer schema, corrupt file. */
export class StoreError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'StoreError';
    this.hint = opts.hint;
  }
}
