// `runs.table`: runs as the list and the comparison view need them. The store reads the runs with
// their metrics and configs (store/repos/runs.ts); this reads the few config fields a list shows.
import type { RunRow } from '../../contract/index';
import type { Handlers } from '../services';
import type { ServiceContext } from './context';

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};

/** Jobs store their params as the run config; a compress run's pipeline sits under `config`. */
function pipelineOf(runConfig: unknown): Obj {
  const c = asObj(runConfig);
  return 'steps' in c ? c : asObj(c.config);
}

export function compareHandlers(ctx: ServiceContext): Pick<Handlers, 'runs.table'> {
  return {
    'runs.table': async ({ status, kind, limit }) =>
      ctx.store.runs.listWithRecords({ status, kind, limit }).map(({ summary, metrics, config }): RunRow => {
        // a run with an unreadable config still lists (the store reads it as null)
        const cfg = pipelineOf(config);
        const steps = Array.isArray(cfg.steps) ? cfg.steps : [];
        const ratio = asObj(cfg.target).ratio;
        return {
          ...summary,
          metrics,
          configModel: typeof cfg.model === 'string' ? cfg.model : null,
          configName: typeof cfg.name === 'string' ? cfg.name : null,
          methods: steps.map((s) => asObj(s).method).filter((m): m is string => typeof m === 'string'),
          configTargetRatio: typeof ratio === 'number' ? ratio : null,
        };
      }),
  };
}
