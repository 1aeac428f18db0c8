import { ApiError, notFound } from '../api-error';
import type { Handlers } from '../services';
import type { ServiceContext } from './context';

export function runHandlers(ctx: ServiceContext): Pick<Handlers, 'runs.list' | 'runs.get' | 'runs.delete'> {
  const runs = ctx.store.runs;
  return {
    'runs.list': async (filter) => runs.list(filter),
    'runs.get': async ({ id }) => {
      const detail = runs.detail(id);
      if (!detail) throw notFound('run', id);
      return detail;
    },
    'runs.delete': async ({ id }) => {
      const run = runs.get(id);
      if (!run) throw notFound('run', id);
      if (run.status === 'running' || run.status === 'queued') {
        throw new ApiError('conflict', `run ${id} is ${run.status}; cancel its job before deleting it`);
      }
      return { deleted: runs.remove(id) };
    },
  };
}
