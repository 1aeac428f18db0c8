import { EngineError } from '../../engine/errors';
import { ApiError } from '../api-error';
import type { Handlers } from '../services';
import type { ServiceContext } from './context';

export function jobHandlers(ctx: ServiceContext): Pick<Handlers, 'jobs.start' | 'jobs.cancel' | 'jobs.list'> {
  return {
    'jobs.start': async ({ kind, params }) => {
      try {
        return ctx.host.start(kind, params);
      } catch (e) {
        if (e instanceof EngineError)
          throw new ApiError('bad_request', e.hint ? `${e.message} (${e.hint})` : e.message);
        throw e;
      }
    },
    'jobs.cancel': async ({ jobId }) => ({ cancelled: ctx.host.cancel(jobId) }),
    'jobs.list': async () => ctx.host.list(),
  };
}
