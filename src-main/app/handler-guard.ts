// Wraps each handler: params are parsed against the contract (callers such as the CLI skip the
// transports' validation), and known error types become ApiErrors with a contract code.
import { z } from 'zod';
import { type Method, requests } from '../contract/index';
import { EngineError } from '../engine/errors';
import { ApiError } from './api-error';
import type { Handlers } from './services';

function toApiError(e: unknown): unknown {
  if (e instanceof ApiError) return e;
  if (e instanceof z.ZodError) {
    const issue = e.issues[0]!;
    return new ApiError('bad_request', `${issue.path.join('.') || 'params'}: ${issue.message}`, e.issues);
  }
  if (e instanceof EngineError)
    return new ApiError('bad_request', e.hint ? `${e.message} (${e.hint})` : e.message);
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT'))
    return new ApiError('conflict', (e as Error).message);
  return e;
}

export function guardHandlers(impl: Handlers): Handlers {
  const guarded: Partial<Record<Method, (p: unknown) => Promise<unknown>>> = {};
  for (const method of Object.keys(requests) as Method[]) {
    const fn = impl[method] as (p: unknown) => Promise<unknown>;
    guarded[method] = async (params: unknown) => {
      try {
        return await fn(requests[method].params.parse(params ?? {}));
      } catch (e) {
        throw toApiError(e);
      }
    };
  }
  return guarded as Handlers;
}
