import path from 'node:path';
import { safeSegment } from '../../engine/io/path-confinement';
import { createResolver } from '../../engine/io/resolver';
import { pipelineJsonSchema } from '../../engine/pipeline/config';
import { ApiError, notFound } from '../api-error';
import type { Handlers } from '../services';
import type { ServiceContext } from './context';
import { checkPipeline } from './pipeline-validation';

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
  | 'pipelines.plan'
  | 'pipelines.run'
> {
  const pipelines = ctx.store.pipelines;
  let schema: unknown = null;
  // models resolve as the compress job resolves them: the app's roots, paths against the working folder
  const check = (config: unknown) =>
    checkPipeline(config, { resolver: createResolver({ baseDir: process.cwd(), ...ctx.roots }) });
  return {
    'pipelines.list': async () => pipelines.list(),
    'pipelines.get': async ({ id }) => {
      const p = pipelines.get(id);
      if (!p) throw notFound('pipeline', id);
      return p;
    },
    'pipelines.delete': async ({ id }) => ({ deleted: pipelines.remove(id) }),
    'pipelines.schema': async () => {
      schema ??= pipelineJsonSchema();
      return schema;
    },
    'pipelines.validate': async ({ config }) => {
      const { issues } = check(config);
      return { ok: issues.length === 0, issues };
    },
    'pipelines.plan': async ({ config }) => {
      const { issues, plan, budgetFamilies } = check(config);
      return { ok: issues.length === 0, issues, plan, budgetFamilies };
    },
    'pipelines.run': async ({ config }) => {
      // schema and plan before a worker is started: an invalid config or an unreachable budget never runs
      const checked = check(config);
      if (checked.issues.length > 0 || !checked.config) {
        const first = checked.issues[0] ?? { path: '', message: 'invalid pipeline config' };
        throw new ApiError(
          'bad_request',
          `invalid pipeline config: ${first.path || '(root)'}: ${first.message}`,
          checked.issues,
        );
      }
      // parse once, store what ran: the job (and so the run record) gets the resolved config
      const resolved = checked.config;
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const outDir = path.join(ctx.home, 'exports', `${safeSegment(resolved.name)}-${stamp}`);
      return ctx.host.start(
        'compress',
        ctx.paths.jobParams({ config: resolved as unknown as Record<string, unknown>, outDir }),
      );
    },
    'pipelines.save': async ({ id, name, config }) => {
      // drafts may be saved while invalid; running goes through checkPipeline
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
