// The error every handler throws toward a transport; `code` is the contract's ErrorCode, so the
// WebSocket server and IPC can map it without guessing. `describeError` is the one mapping from
// anything thrown to what a user reads: the handler guard, the transports (dispatch) and the CLI
// all go through it.
import { z } from 'zod';
import { type ApiErrorBody, ErrorCode } from '../contract/index';
import { EngineError, errorHint, errorMessage, withHint } from '../engine/errors';

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.details = details;
  }
}

export const notFound = (what: string, id: number | string) =>
  new ApiError('not_found', `${what} ${id} not found`);

export interface ErrorReport {
  code: ErrorCode;
  message: string;
  hint?: string | undefined;
  details?: unknown;
  /** false: nothing mapped it (a bug or an unexpected failure), reported as `internal` */
  known: boolean;
}

/**
 * What a thrown value means to a caller: an error carrying a contract code (ApiError, or anything
 * shaped like it) keeps it; bad params (zod) and bad input (EngineError) are `bad_request`; a
 * SQLite constraint is `conflict`; anything else is `internal` with its message only (stacks stay
 * in the process). A hint, when the error carries one, comes along.
 */
export function describeError(e: unknown): ErrorReport {
  const hint = errorHint(e);
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  const contractCode = ErrorCode.safeParse(code);
  if (contractCode.success) {
    const details = (e as { details?: unknown }).details;
    return { code: contractCode.data, message: errorMessage(e), hint, details, known: true };
  }
  if (e instanceof z.ZodError) {
    const issue = e.issues[0]!;
    return {
      code: 'bad_request',
      message: `${issue.path.join('.') || 'params'}: ${issue.message}`,
      details: e.issues,
      known: true,
    };
  }
  if (e instanceof EngineError) return { code: 'bad_request', message: e.message, hint, known: true };
  if (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT'))
    return { code: 'conflict', message: errorMessage(e), hint, known: true };
  return { code: 'internal', message: errorMessage(e), hint, known: false };
}

/**
 * The error a handler throws: an ApiError for what describeError knows (its message one line with
 * the hint, as every transport shows it), anything else unchanged.
 */
export function toApiError(e: unknown): unknown {
  if (e instanceof ApiError) return e;
  const r = describeError(e);
  return r.known ? new ApiError(r.code, withHint(r.message, r.hint), r.details) : e;
}

/** The wire body of a thrown value; only the message crosses, stacks stay in the process. */
export function toErrorBody(e: unknown): ApiErrorBody {
  const r = describeError(e);
  const message = withHint(r.message, r.hint);
  return r.details === undefined ? { code: r.code, message } : { code: r.code, message, details: r.details };
}
