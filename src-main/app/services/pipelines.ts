import { ApiError, notFound } from '../api-error';
import type { Handlers } from '../services';
import type { ServiceContext } from './context';
import { pipelineConfigModule, validatePipelineConfig } from './pipeline-validation';

export function pipelineHandlers(
  ctx: ServiceContext,
): Pick<
  Handlers,
  'pipelines.list' | 'pipelines.save' | 'pipelines.get' | 'pipelines.delete' | 'pipelines.schema' | 'pipelines.validate'
> {
  const pipelines = ctx.store.pipelines;
  return {
    'pipelines.list': async () => pipelines.list(),
    'pipelines.get': async ({ id }) => {
      const p = pipelines.get(id);
      if (!p) throw notFound('pipeline', id);
      return p;
    },
    'pipelines.delete': async ({ id }) => ({ deleted: pipelines.remove(id) }),
    'pipelines.schema': async () => (await pipelineConfigModule()).pipelineJsonSchema(),
    'pipelines.validate': async ({ config }) => {
      const issues = await validatePipelineConfig(config);
      return { ok: issues.length === 0, issues };
    },
    'pipelines.save': async ({ id, name, config }) => {
      // drafts may be saved while invalid; running goes through the compress job's schema
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
