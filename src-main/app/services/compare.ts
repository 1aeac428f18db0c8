// `runs.table`: runs as the list and the comparison view need them, in three queries whatever the
// number of runs: summaries, every metric, and the few config fields a list shows.
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
  const db = ctx.store.db;
  return {
    'runs.table': async ({ status, kind, limit }) => {
      const runs = ctx.store.runs.list({ status, limit }).filter((r) => !kind || r.kind === kind);
      if (runs.length === 0) return [];
      const ids = new Set(runs.map((r) => r.id));
      const minId = Math.min(...ids);
      const metrics = new Map<number, Record<string, number>>();
      for (const m of db
        .prepare('SELECT run_id, name, value FROM metrics WHERE run_id >= ? ORDER BY id')
        .iterate(minId) as Iterable<{ run_id: number; name: string; value: number }>) {
        if (!ids.has(m.run_id)) continue;
        const rec = metrics.get(m.run_id) ?? {};
        if (!(m.name in rec)) rec[m.name] = m.value;
        metrics.set(m.run_id, rec);
      }
      const configs = new Map<number, string>();
      for (const r of db
        .prepare('SELECT id, config_json FROM runs WHERE id >= ?')
        .iterate(minId) as Iterable<{
        id: number;
        config_json: string;
      }>)
        if (ids.has(r.id)) configs.set(r.id, r.config_json);
      return runs.map((r): RunRow => {
        let cfg: Obj = {};
        try {
          cfg = pipelineOf(JSON.parse(configs.get(r.id) ?? '{}'));
        } catch {
          // a run with an unreadable config still lists
        }
        const steps = Array.isArray(cfg.steps) ? cfg.steps : [];
        const ratio = asObj(cfg.target).ratio;
        return {
          ...r,
          metrics: metrics.get(r.id) ?? {},
          configModel: typeof cfg.model === 'string' ? cfg.model : null,
          configName: typeof cfg.name === 'string' ? cfg.name : null,
          methods: steps.map((s) => asObj(s).method).filter((m): m is string => typeof m === 'string'),
          configTargetRatio: typeof ratio === 'number' ? ratio : null,
        };
      });
    },
  };
}
