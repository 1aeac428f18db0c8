// `moe-bench inspect`: what a checkpoint is, with parameter counts taken from tensor shapes.
import type { LoadedModel } from './model';

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
}

const EXPERT = /^model\.layers\.(\d+)\..*\.experts\.(\d+)\./;

export function summarize(model: LoadedModel): ModelSummary {
  const { spec, checkpoint: ck } = model;
  let total = 0;
  let experts = 0;
  let bytes = 0;
  const perLayer = new Map<number, { params: number; ids: Set<number> }>();
  const dtypeBytes = new Map<string, number>();
  for (const name of ck.names()) {
    const info = ck.info(name);
    const n = info.shape.reduce((a, b) => a * b, 1);
    total += n;
    bytes += info.byteLength;
    dtypeBytes.set(info.dtype, (dtypeBytes.get(info.dtype) ?? 0) + info.byteLength);
    const m = EXPERT.exec(name);
    if (m) {
      experts += n;
      const l = Number(m[1]);
      const e = perLayer.get(l) ?? { params: 0, ids: new Set<number>() };
      e.params += n;
      e.ids.add(Number(m[2]));
      perLayer.set(l, e);
    }
  }
  const topK = spec.routing.topK;
  let activeExperts = 0;
  for (const { params, ids } of perLayer.values())
    activeExperts += (params / ids.size) * Math.min(topK, ids.size);
  const moeLayers = spec.layerKinds.flatMap((k, l) => (k === 'moe' ? [l] : []));
  return {
    architecture: spec.architecture,
    modelType: spec.modelType,
    layers: spec.layers,
    moeLayers,
    denseLayers: spec.layerKinds.flatMap((k, l) => (k === 'dense' ? [l] : [])),
    expertsPerLayer: spec.experts,
    topK,
    sharedExperts: spec.sharedExperts,
    hiddenSize: spec.hidden,
    intermediateSize: spec.intermediate,
    moeIntermediateSize: spec.moeIntermediate,
    vocabSize: spec.vocab,
    params: { total, experts, activePerToken: Math.round(total - experts + activeExperts) },
    dtype: [...dtypeBytes].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'unknown',
    bytesOnDisk: bytes,
  };
}
