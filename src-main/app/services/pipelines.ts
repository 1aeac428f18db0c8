import path from 'node:path';
import { ApiError, notFound } from '../api-error';
import type { Handlers } from '../services';
import type { ServiceContext } from './context';
import { pipelineConfigModule, validatePipelineConfig } from './pipeline-validation';

export function pipelineHandlers(
  ctx: ServiceContext,
): Pick<
  Handlers,
  | 'pipelines.list'
  | 'pipelines.save'
  | 'pipelines.get'
  | 'pipelines.delete'
  | 'pipelines.schema'
  | 'pipelines.validate'
  | 'pipelines.run'
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
    'pipelines.run': async ({ config }) => {
      // the engine's own schema, before a worker is started: an invalid config never runs
      const issues = await validatePipelineConfig(config);
      if (issues.length > 0) {
        const first = issues[0]!;
        throw new ApiError(
          'bad_request',
          `invalid pipeline config: ${first.path || '(root)'}: ${first.message}`,
          issues,
        );
      }
      const name = String((config as { name?: unknown }).name ?? 'pipeline').replace(/[^\w.-]+/g, '-');
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const outDir = path.join(ctx.home, 'exports', `${name}-${stamp}`);
      return ctx.host.start('compress', { config: config as Record<string, unknown>, outDir });
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
