// `models.inspect`: the model engine's summary plus a per-layer parameter table. It reads only
// config.json and safetensors headers (no tensor data), so it runs in-process; the engine modules
// are imported lazily so the main process never loads tfjs until someone inspects a model.
import type { ModelLayerInfo } from '../../contract/index';
import { notFound } from '../api-error';
import type { Handlers } from '../services';
import type { ServiceContext } from './context';

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
        const { perLayer, ...summary } = summarize(model);
        // per layer from the engine's summary (names from the adapter's table; a workbench-format
        // checkpoint's stored experts, a dropped MoE sub-layer or block counted as stored)
        const layers: ModelLayerInfo[] = perLayer.map((p) => ({
          layer: p.layer,
          kind: p.kind,
          experts: p.experts,
          params: p.params,
          expertParams: p.expertParams,
        }));
        ctx.store.models.setSummary(id, summary.architecture, { ...summary });
        return { modelId: id, summary, layers };
      } finally {
        model.checkpoint.close();
      }
    },
  };
}
