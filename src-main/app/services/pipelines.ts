import { ApiError, notFound } from '../api-error';
import type { Handlers } from '../services';
import type { ServiceContext } from './context';

export function pipelineHandlers(ctx: ServiceContext): Pick<Handlers, 'pipelines.list' | 'pipelines.save'> {
  const pipelines = ctx.store.pipelines;
  return {
    'pipelines.list': async () => pipelines.list(),
    'pipelines.save': async ({ id, name, config }) => {
      const sameName = pipelines.findByName(name);
      if (sameName && sameName.id !== id)
        throw new ApiError('conflict', `a pipeline named '${name}' already exists`);
      if (id === undefined) return pipelines.create(name, config);
      const updated = pipelines.update(id, name, config);
      if (!updated) throw notFound('pipeline', id);
      return updated;
    },
  };
}
