import type { ApiErrorBody, ErrorCode } from '@contract';

/** A failed call as the UI sees it: the contract's error code, or `disconnected` for transport loss. */
export class ApiCallError extends Error {
  readonly code: ErrorCode | 'disconnected';
  readonly details: unknown;

  constructor(code: ErrorCode | 'disconnected', message: string, details?: unknown) {
    super(message);
    this.name = 'ApiCallError';
    this.code = code;
    this.details = details;
  }

  static fromBody(body: ApiErrorBody): ApiCallError {
    return new ApiCallError(body.code, body.message, body.details);
  }
}

/** One line for an inline error: the message, plus the first validation issue when there is one. */
export function describeError(err: unknown): string {
  if (err instanceof ApiCallError) {
    const issues = Array.isArray(err.details)
      ? (err.details as { path?: unknown[]; message?: string }[])
      : [];
    const first = issues[0];
    if (err.code === 'bad_request' && first?.message) {
      const where = first.path?.length ? `${first.path.join('.')}: ` : '';
      return `${err.message} (${where}${first.message})`;
    }
    return err.message;
  }
  return err instanceof Error ? err.message : String(err);
}
