import type { Handlers } from '../services';
import type { ServiceContext } from './context';

// An unknown kind or bad params throw EngineError; the handler guard maps it (bad_request).
export function jobHandlers(ctx: ServiceContext): Pick<Handlers, 'jobs.start' | 'jobs.cancel' | 'jobs.list'> {
  return {
    // the client's paths are checked here; the CLI's app (mode 'cli') passes them through
    'jobs.start': async ({ kind, params }) =>
      ctx.host.start(kind, ctx.paths.jobParams(params, ctx.host.takesReferences(kind))),
    'jobs.cancel': async ({ jobId }) => ({ cancelled: ctx.host.cancel(jobId) }),
    'jobs.list': async () => ctx.host.list(),
  };
}
