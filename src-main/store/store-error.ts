/** A store that cannot be opened or used as asked: unwritable folder, newer schema, corrupt file. */
export class StoreError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'StoreError';
    this.hint = opts.hint;
  }
}

/**
 * A failed store operation as a StoreError naming the store file; a read-only file or folder
 * (SQLite's bare "attempt to write a readonly database") gets a hint saying what to change.
 */
export function storeFailure(e: unknown, file: string, doing = 'use'): StoreError {
  const msg = e instanceof Error ? e.message : String(e);
  const code = String((e as { code?: unknown } | null)?.code ?? '');
  const readonly = code.startsWith('SQLITE_READONLY') || /readonly database/i.test(msg);
  return new StoreError(`cannot ${doing} store '${file}': ${msg}`, {
    ...(readonly
      ? {
          hint: `the store file or its folder is read-only; make ${file} and its folder writable, or pass --home DIR`,
        }
      : {}),
    cause: e,
  });
}
