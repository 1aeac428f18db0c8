// `moe-bench inspect`: what a checkpoint is, with parameter counts taken from tensor shapes. The total
// counts every stored tensor once (a shared factor once), so for an export it equals the run's
// `paramsAfter`; per layer it says what a workbench-format checkpoint stores (experts kept / dropped,
// merged, factored, a dropped MoE sub-layer or block).
import { dominantDtype } from '../io/safetensors-header';
import { type LinearRef, manifestTensorNames, type ViewManifest } from './layer-manifest';
import type { LoadedModel } from './model';
import { layerTensorGroups, layerTensors } from './tensor-layout';
import { PROJ } from './tensor-names';

export interface LayerSummary {
  layer: number;
  kind: 'moe' | 'dense';
  /** plain: as the architecture stores it; compressed: a workbench view; or a Layer / Block Drop */
  state: 'plain' | 'compressed' | 'ffn-dropped' | 'block-dropped';
  /** routed experts stored (0 for dense and dropped layers) */
  experts: number;
  /** original experts no longer stored as their own expert (pruned, or folded into a merge) */
  expertsDropped: number;
  /** original expert ids no stored expert comes from (known when the checkpoint records sources) */
  droppedIds?: number[];
  /** stored experts built from several original experts */
  merged: number;
  topK: number;
  /** form of the routed expert linears */
  form: 'dense' | 'factored' | 'delta' | 'mixed' | null;
  /** rank of the first factored expert linear */
  rank: number | null;
  /** parameters stored for this layer, each tensor once */
  params: number;
  expertParams: number;
}

export interface ModelSummary {
  architecture: string;
  modelType: string;
  layers: number;
  moeLayers: number[];
  denseLayers: number[];
  expertsPerLayer: number;
  topK: number;
  sharedExperts: number;
  hiddenSize: number;
  intermediateSize: number;
  moeIntermediateSize: number;
  vocabSize: number;
  params: { total: number; experts: number; activePerToken: number };
  /** Dtype holding most bytes. */
  dtype: string;
  bytesOnDisk: number;
  /** workbench format version and method, when the checkpoint is one */
  workbench?: { version: number; method?: string };
  perLayer: LayerSummary[];
}

function viewSummary(model: LoadedModel, l: number, m: ViewManifest, size: (n: string) => number) {
  const { spec } = model;
  const expertNames = new Set<string>();
  const kinds = new Set<string>();
  let rank: number | null = null;
  const kind = (r: LinearRef) =>
    'W' in r ? 'dense' : 'quant' in r ? 'quantized' : 'base' in r ? 'delta' : 'factored';
  for (const e of m.experts)
    for (const p of PROJ) {
      const r = e[p];
      kinds.add(kind(r));
      if (rank === null && 'A' in r) rank = model.checkpoint.info(r.A).shape[1] ?? null;
      for (const v of Object.values(r)) if (typeof v === 'string') expertNames.add(v);
      if ('quant' in r)
        for (const k of ['codes', 'scales', 'zeros', 'gIdx'] as const) expertNames.add(r.quant[k]);
    }
  const covered = new Set((m.sources ?? []).flat());
  const droppedIds = m.sources
    ? Array.from({ length: spec.experts }, (_, e) => e).filter((e) => !covered.has(e))
    : undefined;
  const g = layerTensorGroups(spec, l);
  const names = new Set([...[...g.attention, ...g.postNorm].map((t) => t.name), ...manifestTensorNames(m)]);
  const s: LayerSummary = {
    layer: l,
    kind: 'moe',
    state: 'compressed',
    experts: m.experts.length,
    expertsDropped: spec.experts - m.experts.length,
    ...(droppedIds ? { droppedIds } : {}),
    merged: (m.sources ?? []).filter((x) => x.length > 1).length,
    topK: m.topK,
    form: kinds.size === 1 ? ([...kinds][0] as LayerSummary['form']) : 'mixed',
    rank,
    params: [...names].reduce((a, n) => a + size(n), 0),
    expertParams: [...expertNames].reduce((a, n) => a + size(n), 0),
  };
  if (droppedIds) s.expertsDropped = Math.max(droppedIds.length, s.expertsDropped);
  return s;
}

export function summarize(model: LoadedModel): ModelSummary {
  const { spec, checkpoint: ck } = model;
  let total = 0;
  let bytes = 0;
  // a GPTQ linear counts its out·in weights (its derived .weight), not the words of its packed parts
  const packed = new Set(
    [...(model.gptq?.linears.keys() ?? [])].flatMap((p) =>
      ['qweight', 'qzeros', 'scales', 'g_idx'].map((s) => `${p}.${s}`),
    ),
  );
  for (const name of ck.names()) {
    const info = ck.info(name);
    if (!packed.has(name)) total += info.shape.reduce((a, b) => a * b, 1);
    bytes += info.byteLength;
  }
  for (const g of model.gptq?.linears.values() ?? []) total += g.outFeatures * g.inFeatures;
  const size = (n: string) => (ck.has(n) ? ck.info(n).shape.reduce((a, b) => a * b, 1) : 0);
  const sum = (ts: { name: string }[]) => ts.reduce((a, t) => a + size(t.name), 0);
  const perLayer = spec.layerKinds.map((kind, l): LayerSummary => {
    const stored = model.stored?.layers.get(l);
    const base: LayerSummary = {
      layer: l,
      kind,
      state: 'plain',
      experts: 0,
      expertsDropped: 0,
      merged: 0,
      topK: 0,
      form: null,
      rank: null,
      params: 0,
      expertParams: 0,
    };
    if (stored && 'view' in stored) return viewSummary(model, l, stored.view, size);
    const g = layerTensorGroups(spec, l);
    if (stored?.drop === 'block')
      return { ...base, state: 'block-dropped', expertsDropped: kind === 'moe' ? spec.experts : 0 };
    if (stored?.drop === 'ffn')
      return {
        ...base,
        state: 'ffn-dropped',
        expertsDropped: kind === 'moe' ? spec.experts : 0,
        params: sum(g.attention),
      };
    if (kind === 'dense') return { ...base, params: sum(layerTensors(spec, l)) };
    return {
      ...base,
      experts: spec.experts,
      topK: spec.routing.topK,
      form: 'dense',
      params: sum(layerTensors(spec, l)),
      expertParams: sum(g.experts.flat()),
    };
  });
  let experts = 0;
  let activeExperts = 0;
  for (const s of perLayer) {
    if (s.experts === 0) continue;
    experts += s.expertParams;
    activeExperts += (s.expertParams / s.experts) * Math.min(s.topK, s.experts);
  }
  return {
    architecture: spec.architecture,
    modelType: spec.modelType,
    layers: spec.layers,
    moeLayers: spec.layerKinds.flatMap((k, l) => (k === 'moe' ? [l] : [])),
    denseLayers: spec.layerKinds.flatMap((k, l) => (k === 'dense' ? [l] : [])),
    expertsPerLayer: spec.experts,
    topK: spec.routing.topK,
    sharedExperts: spec.sharedExperts,
    hiddenSize: spec.hidden,
    intermediateSize: spec.intermediate,
    moeIntermediateSize: spec.moeIntermediate,
    vocabSize: spec.vocab,
    params: { total, experts, activePerToken: Math.round(total - experts + activeExperts) },
    dtype: dominantDtype(ck.names().map((n) => ck.info(n))) ?? 'unknown',
    bytesOnDisk: bytes,
    ...(model.stored
      ? {
          workbench: {
            version: model.stored.version,
            ...(model.stored.method ? { method: model.stored.method } : {}),
          },
        }
      : {}),
    perLayer,
  };
}
