// The error every handler throws toward a transport; `code` is the contract's ErrorCode, so the
// WebSocket server and IPC can map it without guessing.
import type { ErrorCode } from '../contract/index';

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
