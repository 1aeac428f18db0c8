// Shape-level model state for planning and exact accounting (METHODS §2.1, §6). Built from the
// architecture's tensor list (no tensor data), or from a layer's current view while a run goes on;
// both count every stored tensor once, so params(state) equals what `moe-bench inspect` counts on
// the exported checkpoint. Methods' knobs transform this state (methods/method.ts KnobSpec.apply).
import { SAFETENSORS_DTYPES, type SafetensorsDtype } from '../io/safetensors-header';
import { globalTensors, layerTensorGroups } from '../model/tensor-layout';
import type { LayerOverride, Linear, ModelSpec, MoeLayerView } from '../model/types';

export type ExpertForm = 'dense' | 'factored' | 'delta' | 'mixed';

export interface LayerPlanState {
  layer: number;
  kind: 'moe' | 'dense';
  /** Block Drop removed the whole decoder block */
  blockDropped: boolean;
  /** Layer Drop removed the MoE sub-layer and its post-attention norm */
  ffnDropped: boolean;
  /** attention projections, their biases and q/k norms, plus the input norm */
  attention: number;
  postNorm: number;
  /** dense MLP of a dense layer */
  denseMlp: number;
  /** shared expert(s) and the shared-expert gate */
  shared: number;
  /** routed experts present */
  experts: number;
  topK: number;
  /** fewest routed experts the router can work with (1; 2 for Phi-3.5's top-2 sparsemixer) */
  minExperts: number;
  /** router params per routed expert (one row of h, plus a bias entry when the router has one) */
  routerRow: number;
  /** params of all routed experts of the layer in their current form, each stored tensor once */
  expertParams: number;
  form: ExpertForm;
  /** rank of the factored expert matrices (null when dense) */
  rank: number | null;
}

export interface ModelPlanState {
  hidden: number;
  /** routed-expert intermediate width */
  intermediate: number;
  /** embeddings, final norm, lm_head */
  globalParams: number;
  /** bytes per stored parameter of the export dtype */
  bytesPerParam: number;
  layers: LayerPlanState[];
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** The state of an unmodified checkpoint, from its architecture's tensor shapes. */
export function stateFromSpec(spec: ModelSpec, bytesPerParam = 4): ModelPlanState {
  const sum = (ts: readonly { shape: readonly number[] }[]) => ts.reduce((a, t) => a + size(t.shape), 0);
  const layers = Array.from({ length: spec.layers }, (_, l): LayerPlanState => {
    const g = layerTensorGroups(spec, l);
    const kind = spec.layerKinds[l]!;
    return {
      layer: l,
      kind,
      blockDropped: false,
      ffnDropped: false,
      attention: sum(g.attention),
      postNorm: sum(g.postNorm),
      denseMlp: sum(g.denseMlp),
      shared: sum(g.shared),
      experts: kind === 'moe' ? spec.experts : 0,
      topK: kind === 'moe' ? spec.routing.topK : 0,
      minExperts: spec.routing.kind === 'sparsemixer' ? 2 : 1,
      routerRow: kind === 'moe' && spec.experts > 0 ? sum(g.router) / spec.experts : 0,
      expertParams: sum(g.experts.flat()),
      form: 'dense',
      rank: null,
    };
  });
  const globalParams = globalTensors(spec).reduce((a, t) => a + size(t.shape), 0);
  return { hidden: spec.hidden, intermediate: spec.moeIntermediate, globalParams, bytesPerParam, layers };
}

export function layerParams(s: LayerPlanState): number {
  if (s.blockDropped) return 0;
  if (s.ffnDropped) return s.attention;
  return s.attention + s.postNorm + s.denseMlp + s.shared + s.experts * s.routerRow + s.expertParams;
}

export function stateParams(s: ModelPlanState): number {
  return s.layers.reduce((a, l) => a + layerParams(l), s.globalParams);
}

export function stateWeightBytes(s: ModelPlanState): number {
  return stateParams(s) * s.bytesPerParam;
}

/** Routed-expert params of the layers still holding experts, and their count (global, §2.2). */
export function routedExperts(s: ModelPlanState): { experts: number; params: number } {
  let experts = 0;
  let params = 0;
  for (const l of s.layers) {
    if (l.kind !== 'moe' || l.blockDropped || l.ffnDropped) continue;
    experts += l.experts;
    params += l.expertParams;
  }
  return { experts, params };
}

/** Layers that still run a routed MoE block. */
export function liveMoeLayers(s: ModelPlanState): LayerPlanState[] {
  return s.layers.filter((l) => l.kind === 'moe' && !l.blockDropped && !l.ffnDropped && l.experts > 0);
}

/**
 * One layer with `kept` of its routed experts left (pruned or merged away): each leaves its share of
 * the layer's expert params and its router row; top-k becomes min(top-k, kept).
 */
export function withExpertCount(l: LayerPlanState, kept: number): LayerPlanState {
  if (kept === l.experts) return l;
  const per = l.experts > 0 ? l.expertParams / l.experts : 0;
  return { ...l, experts: kept, expertParams: Math.round(per * kept), topK: Math.min(l.topK, kept) };
}

export function withLayers(s: ModelPlanState, f: (l: LayerPlanState) => LayerPlanState): ModelPlanState {
  return { ...s, layers: s.layers.map((l) => f({ ...l })) };
}

function linearTensors(L: Linear): { size: number }[] {
  const t: { size: number }[] =
    L.kind === 'dense' ? [L.w] : L.kind === 'factored' ? [L.A, L.B] : [L.base, L.A, L.B];
  if ('bias' in L && L.bias) t.push(L.bias);
  return t;
}

/** Routed-expert params of a view, each distinct tensor object once (a shared factor once). */
export function viewExpertParams(view: MoeLayerView): number {
  const seen = new Set<object>();
  let n = 0;
  for (const e of view.experts)
    for (const L of [e.gate, e.up, e.down])
      for (const t of linearTensors(L))
        if (!seen.has(t)) {
          seen.add(t);
          n += t.size;
        }
  return n;
}

function viewForm(view: MoeLayerView): { form: ExpertForm; rank: number | null } {
  const kinds = new Set(view.experts.flatMap((e) => [e.gate.kind, e.up.kind, e.down.kind]));
  if (kinds.size === 0) return { form: 'dense', rank: null };
  if (kinds.size > 1) return { form: 'mixed', rank: null };
  const k = [...kinds][0]!;
  const g = view.experts[0]!.gate;
  return { form: k, rank: g.kind === 'dense' ? null : g.A.shape[1] };
}

/** The exact state of layer l given its override (unchanged layers keep their spec state). */
export function layerStateOf(base: LayerPlanState, override: LayerOverride | undefined): LayerPlanState {
  if (!override) return base;
  if (override.skipBlock) return { ...base, blockDropped: true };
  if (override.skipFfn) return { ...base, ffnDropped: true };
  const v = override.moe;
  if (!v) return base;
  const sharedTensors: { size: number }[] = v.shared
    ? [
        ...linearTensors(v.shared.gate),
        ...linearTensors(v.shared.up),
        ...linearTensors(v.shared.down),
        ...(v.shared.gateWeight ? [v.shared.gateWeight] : []),
      ]
    : [];
  const { form, rank } = viewForm(v);
  return {
    ...base,
    experts: v.experts.length,
    topK: v.routing.topK,
    routerRow: v.experts.length > 0 ? (v.router.size + (v.routerBias?.size ?? 0)) / v.experts.length : 0,
    expertParams: viewExpertParams(v),
    shared: [...new Set(sharedTensors)].reduce((a, t) => a + t.size, 0),
    form,
    rank,
  };
}

export function stateWithOverrides(
  base: ModelPlanState,
  overrides: ReadonlyMap<number, LayerOverride>,
): ModelPlanState {
  return { ...base, layers: base.layers.map((l) => layerStateOf(l, overrides.get(l.layer))) };
}

/** Bytes per stored parameter of a safetensors dtype name. */
export function dtypeBytes(dtype: string): number {
  return SAFETENSORS_DTYPES[dtype as SafetensorsDtype] ?? 4;
}
