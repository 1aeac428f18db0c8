// Which weight matrices a slimming (S) or quantization (Q) step touches, and their storage after the
// step, from shapes only (no tfjs): the routed experts' gate/up/down of every live MoE layer whose
// experts are still dense; optionally the shared expert; optionally (S only) the router — the Unified
// reference prunes Mixtral/Qwen routers by accident (METHODS §4.1 [PITFALL]; DeepSeek's MoEGate is no
// nn.Linear and stays out) together with Qwen's 1-row shared_expert_gate.
import type { ModelSpec } from '../model/types';
import {
  type LayerPlanState,
  type LayerStorage,
  liveMoeLayers,
  type ModelPlanState,
  partParams,
  routerIsLinear,
  type WeightPart,
} from '../pipeline/plan-state';

export { routerIsLinear };

/** One matrix after an S/Q step: entries stored in the export dtype, extra bytes, zeroed entries. */
export interface StorageSummary {
  values: number;
  extraBytes: number;
  zeros: number;
}

export interface MatrixShape {
  part: WeightPart;
  name: 'gate' | 'up' | 'down' | 'router' | 'sharedGate';
  /** HF [out, in] */
  rows: number;
  cols: number;
  /** matrices of this shape in the layer */
  count: number;
}

export interface TargetOptions {
  includeShared: boolean;
  includeRouter?: boolean;
}

/** Layers an S/Q step works on: live MoE layers with dense routed experts. */
export function weightTargetLayers(s: ModelPlanState): LayerPlanState[] {
  return liveMoeLayers(s).filter((l) => l.form === 'dense');
}

export function weightTargetCheck(s: ModelPlanState, what: string): string | null {
  if (weightTargetLayers(s).length > 0) return null;
  return liveMoeLayers(s).length === 0
    ? 'the model has no MoE layer left'
    : `${what} works on dense expert matrices, and every MoE layer's experts are factored; run it before the low-rank step`;
}

/**
 * Matrices of layer l an S/Q step touches. Without the spec (a knob's `apply` sees the plan state
 * only) the shared expert's width is read off the state (3·h·I_s params, plus h for Qwen's gate) and
 * the router counts as a linear.
 */
export function layerMatrices(
  spec: ModelSpec | null,
  s: ModelPlanState,
  l: LayerPlanState,
  o: TargetOptions,
): MatrixShape[] {
  const h = s.hidden;
  const I = s.intermediate;
  const out: MatrixShape[] = [
    { part: 'experts', name: 'gate', rows: I, cols: h, count: l.experts },
    { part: 'experts', name: 'up', rows: I, cols: h, count: l.experts },
    { part: 'experts', name: 'down', rows: h, cols: I, count: l.experts },
  ];
  const Is = spec ? (l.shared > 0 ? spec.sharedIntermediate : 0) : Math.floor(l.shared / (3 * h));
  const sharedGate = spec ? Is > 0 && spec.sharedGate : Is > 0 && l.shared - 3 * h * Is === h;
  if (o.includeShared && Is > 0) {
    out.push(
      { part: 'shared', name: 'gate', rows: Is, cols: h, count: 1 },
      { part: 'shared', name: 'up', rows: Is, cols: h, count: 1 },
      { part: 'shared', name: 'down', rows: h, cols: Is, count: 1 },
    );
  }
  if (o.includeRouter && (spec ? routerIsLinear(spec) : s.routerLinear !== false)) {
    out.push({ part: 'router', name: 'router', rows: l.experts, cols: h, count: 1 });
    if (sharedGate) out.push({ part: 'shared', name: 'sharedGate', rows: 1, cols: h, count: 1 });
  }
  return out;
}

export interface LayerBytes {
  layer: number;
  /** bytes of the touched parts before / after the step */
  before: number;
  after: number;
  storage: LayerStorage;
}

export interface WeightBytesPlan {
  layers: LayerBytes[];
  before: number;
  after: number;
}

/**
 * Storage of every touched part after the step. `stored(m)` is the storage of one matrix of shape m
 * after the step; untouched tensors of a part (a bias, an excluded gate) stay dense.
 */
export function weightBytesPlan(
  spec: ModelSpec | null,
  s: ModelPlanState,
  o: TargetOptions,
  stored: (m: MatrixShape) => StorageSummary,
): WeightBytesPlan {
  const bpp = s.bytesPerParam;
  const layers = weightTargetLayers(s).map((l): LayerBytes => {
    const storage: LayerStorage = {};
    for (const m of layerMatrices(spec, s, l, o)) {
      const params = partParams(l, m.part);
      const cur = storage[m.part] ?? { params, values: params, extraBytes: 0, zeros: 0 };
      const one = stored(m);
      cur.values += m.count * (one.values - m.rows * m.cols);
      cur.extraBytes += m.count * one.extraBytes;
      cur.zeros += m.count * one.zeros;
      storage[m.part] = cur;
    }
    let before = 0;
    let after = 0;
    for (const p of Object.values(storage)) {
      before += p.params * bpp;
      after += p.values * bpp + p.extraBytes;
    }
    return { layer: l.layer, before, after, storage };
  });
  return {
    layers,
    before: layers.reduce((a, l) => a + l.before, 0),
    after: layers.reduce((a, l) => a + l.after, 0),
  };
}

/** The state with each touched layer's storage after the step (stateWeightBytes counts it). */
export function withLayerStorage(s: ModelPlanState, plan: WeightBytesPlan): ModelPlanState {
  const by = new Map(plan.layers.map((l) => [l.layer, l.storage]));
  return {
    ...s,
    layers: s.layers.map((l) => {
      const st = by.get(l.layer);
      return st ? { ...l, storage: { ...l.storage, ...st } } : l;
    }),
  };
}
