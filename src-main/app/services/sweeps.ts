// Sweeps as the app offers them to the CLI and the UI: plan (expand + per-point plan check, nothing
// runs), create, run or resume (the coordinator, in this process), cancel (a flag any process may
// set), and the stored sweep with its points and their runs' metrics for the surfaces.

import { EngineError } from '../../engine/errors';
import { createResolver } from '../../engine/io/resolver';
import type { PointRecord, SweepRecord } from '../../store/repos/sweeps';
import {
  createSweep,
  type RunSweepOptions,
  runSweep,
  type SweepEnv,
  type SweepProgress,
  sweepProgress,
} from '../../sweep/coordinator';
import { expandSweep } from '../../sweep/expand';
import { parseSweepSpec } from '../../sweep/sweep-spec';
import { ApiError } from '../api-error';
import { renderSweepReport } from '../report/sweep-report';
import type { Handlers } from '../services';
import type { ServiceContext } from './context';
import { checkPipeline } from './pipeline-validation';

export interface SweepPlanItem {
  hash: string;
  label: string;
  ratio: number;
  contributions: Record<string, number>;
  order: string[];
  params: Record<string, unknown>;
  /** the point's plan cannot reach its target (or its config does not run here) */
  problem: string | null;
  /** an identical run is already stored: it would be reused */
  reusedRun: number | null;
}

export interface SweepPlan {
  name: string;
  count: number;
  /** points that would compute (count − refused − reused) */
  toCompute: number;
  items: SweepPlanItem[];
}

export interface SweepPointView extends PointRecord {
  /** the run's metrics, first value per name (or name@dataset) */
  metrics: Record<string, number>;
}

export interface SweepView {
  sweep: SweepRecord;
  /** the coordinating process is gone while the sweep says running */
  interrupted: boolean;
  progress: SweepProgress;
  points: SweepPointView[];
}

export interface SweepService {
  plan(spec: unknown, file?: string): SweepPlan;
  create(spec: unknown, file?: string): SweepRecord;
  run(id: number, opts?: RunSweepOptions): Promise<SweepProgress>;
  cancel(id: number): boolean;
  list(): SweepRecord[];
  get(id: number): SweepView;
}

const alive = (pid: number | null) => {
  if (pid === null) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

export function createSweepService(ctx: ServiceContext): SweepService {
  const resolver = () => createResolver({ baseDir: process.cwd(), ...ctx.roots });
  const env: SweepEnv = {
    store: ctx.store,
    host: ctx.host,
    home: ctx.home,
    check(config) {
      const c = checkPipeline(config, { resolver: resolver() });
      const modelMissing = c.issues.some((i) => i.path === 'model');
      const problem = c.issues.find((i) => i.path !== 'model');
      return { problem: problem ? `${problem.path || '(root)'}: ${problem.message}` : null, modelMissing };
    },
    modelIdOf(config) {
      const model = (config as { model?: unknown })?.model;
      if (typeof model !== 'string') return null;
      try {
        return ctx.store.models.findByPath(resolver().resolveModel(model))?.id ?? null;
      } catch {
        return null;
      }
    },
  };
  const running = new Set<number>();
  const requireSweep = (id: number) => {
    const s = ctx.store.sweeps.get(id);
    if (!s) throw new EngineError(`no sweep ${id}; \`moe-bench sweep status\` lists them`, { field: 'id' });
    return s;
  };
  return {
    plan(raw, file) {
      const spec = parseSweepSpec(raw, file);
      const items = expandSweep(spec, file).map((p): SweepPlanItem => {
        const c = env.check(p.config);
        return {
          hash: p.hash,
          label: p.label,
          ratio: p.ratio,
          contributions: p.contributions as Record<string, number>,
          order: p.order,
          params: p.params,
          problem: c.problem,
          reusedRun: ctx.store.sweeps.succeededRunOf(p.hash),
        };
      });
      return {
        name: spec.name,
        count: items.length,
        toCompute: items.filter((i) => i.problem === null && i.reusedRun === null).length,
        items,
      };
    },
    create(raw, file) {
      return createSweep(ctx.store, parseSweepSpec(raw, file), file);
    },
    async run(id, opts = {}) {
      const s = requireSweep(id);
      if (running.has(id) || (s.status === 'running' && alive(s.ownerPid) && s.ownerPid !== process.pid))
        throw new EngineError(`sweep ${id} is already being run by process ${s.ownerPid}`, { field: 'id' });
      running.add(id);
      try {
        return await runSweep(env, id, opts);
      } finally {
        running.delete(id);
      }
    },
    cancel(id) {
      requireSweep(id);
      return ctx.store.sweeps.requestCancel(id);
    },
    list() {
      return ctx.store.sweeps.list();
    },
    get(id) {
      const sweep = requireSweep(id);
      const points = ctx.store.sweeps.points(id);
      const ids = points.flatMap((p) => (p.runId === null ? [] : [p.runId]));
      const metrics = new Map<number, Record<string, number>>();
      for (const runId of ids) {
        const d = ctx.store.runs.detail(runId);
        const m: Record<string, number> = {};
        for (const r of d?.metrics ?? []) {
          const key = r.dataset ? `${r.name}@${r.dataset}` : r.name;
          if (!(key in m)) m[key] = r.value;
          if (!(r.name in m)) m[r.name] = r.value;
        }
        metrics.set(runId, m);
      }
      return {
        sweep,
        interrupted: sweep.status === 'running' && !alive(sweep.ownerPid),
        progress: sweepProgress(ctx.store, id),
        points: points.map((p) => ({ ...p, metrics: p.runId === null ? {} : (metrics.get(p.runId) ?? {}) })),
      };
    },
  };
}

/** The contract's sweep methods over the service; a started sweep runs in the background. */
export function sweepHandlers(
  service: SweepService,
  emit: (p: SweepProgress) => void,
): Pick<
  Handlers,
  'sweeps.plan' | 'sweeps.list' | 'sweeps.get' | 'sweeps.start' | 'sweeps.cancel' | 'sweeps.report'
> {
  return {
    'sweeps.plan': async ({ spec }) => service.plan(spec),
    'sweeps.list': async () => service.list().map((s) => ({ ...s, progress: service.get(s.id).progress })),
    'sweeps.get': async ({ id }) => service.get(id),
    'sweeps.start': async ({ spec, id, workers, redis }) => {
      if ((spec === undefined) === (id === undefined))
        throw new ApiError(
          'bad_request',
          'sweeps.start: give `spec` (a new sweep) or `id` (resume a stored one), not both',
        );
      if (workers !== undefined && redis !== undefined)
        throw new ApiError('bad_request', 'sweeps.start: give `workers` or `redis`, not both');
      const sweep = id !== undefined ? service.get(id).sweep : service.create(spec);
      service
        .run(sweep.id, {
          ...(redis ? { redis: { url: redis } } : { workers: workers ?? 1 }),
          onProgress: emit,
        })
        .catch(() => {
          // the sweep's status and points say what happened; the coordinator recorded it
        });
      return sweep;
    },
    'sweeps.cancel': async ({ id }) => ({ cancelRequested: service.cancel(id) }),
    'sweeps.report': async ({ id, format, metric }) =>
      renderSweepReport(service.get(id), format, metric !== undefined ? { metric } : {}),
  };
}
