// `models.inspect`: the model engine's summary plus a per-layer parameter table. It reads only
// config.json and safetensors headers (no tensor data), so it runs in-process; the engine modules
// are imported lazily so the main process never loads tfjs until someone inspects a model.
import type { ModelLayerInfo } from '../../contract/index';
import { notFound } from '../api-error';
import type { Handlers } from '../services';
import type { ServiceContext } from './context';

const LAYER = /^model\.layers\.(\d+)\./;
const EXPERT = /\.experts\.(\d+)\./;

export function modelInspectHandlers(ctx: ServiceContext): Pick<Handlers, 'models.inspect'> {
  return {
    'models.inspect': async ({ id }) => {
      const record = ctx.store.models.get(id);
      if (!record) throw notFound('model', id);
      const [{ openModel }, { summarize }] = await Promise.all([
        import('../../engine/model/model'),
        import('../../engine/model/inspect'),
      ]);
      const model = openModel(record.path);
      try {
        const summary = summarize(model);
        const perLayer = new Map<number, { params: number; expertParams: number; experts: Set<number> }>();
        for (const name of model.checkpoint.names()) {
          const m = LAYER.exec(name);
          if (!m) continue;
          const l = Number(m[1]);
          const entry = perLayer.get(l) ?? { params: 0, expertParams: 0, experts: new Set<number>() };
          const n = model.checkpoint.info(name).shape.reduce((a, b) => a * b, 1);
          entry.params += n;
          const e = EXPERT.exec(name);
          if (e) {
            entry.expertParams += n;
            entry.experts.add(Number(e[1]));
          }
          perLayer.set(l, entry);
        }
        const layers: ModelLayerInfo[] = model.spec.layerKinds.map((kind, l) => {
          const p = perLayer.get(l);
          return {
            layer: l,
            kind: kind === 'moe' ? 'moe' : 'dense',
            experts: p?.experts.size ?? 0,
            params: p?.params ?? 0,
            expertParams: p?.expertParams ?? 0,
          };
        });
        ctx.store.models.setSummary(id, summary.architecture, { ...summary });
        return { modelId: id, summary, layers };
      } finally {
        model.checkpoint.close();
      }
    },
  };
}
