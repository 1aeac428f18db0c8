// Wraps each handler: params are parsed against the contract (callers such as the CLI skip the
// transports' validation), and known error types become ApiErrors with a contract code.
import { type Method, requests } from '../contract/index';
import { toApiError } from './api-error';
import type { Handlers } from './services';

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
